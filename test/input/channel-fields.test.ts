/** What a channel's fields must be, on create, PATCH and the headers sub-resource: each refusal a 422 naming the field, nothing stored. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deployedApi } from "../api/as-deployed";
import { ADMIN, api, count, createChannel, request } from "../helpers";

const valid = { Name: "CRM", URL: "https://crm.example.com/hooks", Events: ["UserRegistered"] };

describe("channel validation", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["Name missing", { Name: undefined }, /^Name: /],
    ["Name empty", { Name: "  " }, /^Name: must not be empty/],
    ["Name too long", { Name: "x".repeat(201) }, /^Name: /],
    ["URL missing", { URL: undefined }, /^URL: /],
    ["URL not a URL", { URL: "crm.example.com/hooks" }, /^URL: must be an absolute http or https URL/],
    ["URL ftp", { URL: "ftp://crm.example.com/x" }, /^URL: must use http or https/],
    ["URL javascript:", { URL: "javascript:alert(1)" }, /^URL: must use http or https/],
    ["URL with credentials", { URL: "https://user:pass@crm.example.com/" }, /^URL: must not contain a user name or password/],
    ["URL with a user only", { URL: "https://user@crm.example.com/" }, /^URL: must not contain a user name or password/],
    ["Method GET", { Method: "GET" }, /^Method: must be one of POST, PUT, PATCH/],
    ["Method lowercase", { Method: "post" }, /^Method: /],
    ["Timeout 0", { Timeout: 0 }, /^Timeout: must be at least 1/],
    ["Timeout 61", { Timeout: 61 }, /^Timeout: must be at most 60/],
    ["Timeout fractional", { Timeout: 1.5 }, /^Timeout: must be a whole number/],
    ["Timeout string", { Timeout: "10" }, /^Timeout: /],
    ["Events missing", { Events: undefined }, /^Events: /],
    ["Events empty", { Events: [] }, /^Events: must name at least one event type/],
    ["Events unknown", { Events: ["UserExploded"] }, /^Events\.0: must be one of /],
    ["Events not an array", { Events: "UserRegistered" }, /^Events: /],
    ["Header name with a space", { Headers: [{ Name: "X Bad", Value: "v" }] }, /^Headers\.0\.Name: must be a valid HTTP header name/],
    ["Header name empty", { Headers: [{ Name: "", Value: "v" }] }, /^Headers\.0\.Name: /],
    ["Header Host", { Headers: [{ Name: "Host", Value: "evil" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header content-type", { Headers: [{ Name: "content-type", Value: "text/plain" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Content-Length", { Headers: [{ Name: "Content-Length", Value: "1" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Transfer-Encoding", { Headers: [{ Name: "Transfer-Encoding", Value: "chunked" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Connection", { Headers: [{ Name: "Connection", Value: "close" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Webhook-Signature", { Headers: [{ Name: "Webhook-Signature", Value: "v1,x" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header value with CRLF", { Headers: [{ Name: "X-A", Value: "a\r\nX-Injected: 1" }] }, /^Headers\.0\.Value: must hold only visible ASCII/],
    ["Header value with LF", { Headers: [{ Name: "X-A", Value: "a\nb" }] }, /^Headers\.0\.Value: /],
    ["Header value not a string", { Headers: [{ Name: "X-A", Value: 1 }] }, /^Headers\.0\.Value: /],
    ["21 headers", { Headers: Array.from({ length: 21 }, (_, i) => ({ Name: `X-${i}`, Value: "v" })) }, /^Headers: must hold at most 20 headers/],
    [
      "a header named twice",
      {
        Headers: [
          { Name: "X-A", Value: "1" },
          { Name: "x-a", Value: "2" },
        ],
      },
      /^Headers: must not name a header twice/,
    ],
    ["Enabled a string", { Enabled: "yes" }, /^Enabled: /],
  ];

  it.each(cases)("create refuses %s with 422 naming the field, storing nothing", async (_name, fields, message) => {
    const before = await count("channels");
    const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, ...fields });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(body.errors.some((e: string) => message.test(e))).toBe(true);
    expect(await count("channels")).toBe(before);
  });

  it("reports every bad field at once", async () => {
    const res = await deployedApi("POST", "/portal-api/webhooks", { Name: "", Timeout: 99, Events: [] });
    const { errors } = await res.json<any>();
    expect(errors.map((e: string) => e.split(":")[0]).sort()).toEqual(["Events", "Name", "Timeout", "URL"]);
  });

  it("PATCH applies the same rules, and changes nothing when refused", async () => {
    const channel = await createChannel();
    for (const patch of [{ Timeout: 0 }, { URL: "http://127.0.0.1/x" }, { Headers: [{ Name: "Host", Value: "x" }] }, { Events: [] }]) {
      const res = await deployedApi("PATCH", `/portal-api/webhooks/${channel.ID}`, patch);
      expect(res.status).toBe(422);
    }
    const row = await env.DB.prepare("select timeout_seconds, url from channels where id = ?").bind(channel.ID).first();
    expect(row).toEqual({ timeout_seconds: 10, url: channel.URL });
  });

  it("refuses malformed JSON with 400, an empty body in the same words, and a non-JSON body with 415", async () => {
    const bad = await api("POST", "/portal-api/webhooks", "{");
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).errors).toEqual(["body: malformed JSON"]);
    const empty = await request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" } });
    expect(empty.status).toBe(400);
    expect((await empty.json<any>()).errors).toEqual(["body: malformed JSON"]);
    const text = await request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "text/plain" }, body: "x" });
    expect(text.status).toBe(415);
    expect((await text.json<any>()).errors[0]).toMatch(/^Content-Type: /);
  });

  it("header routes apply the header rules", async () => {
    const channel = await createChannel();
    const bad = await deployedApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "Webhook-Id", Value: "x" });
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^Name: is reserved/);
    const crlf = await deployedApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-A", Value: "a\r\nb" });
    expect(crlf.status).toBe(422);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(0);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { targetUrlProblem } from "../src/security/target-url";
import { ADMIN, count, createChannel } from "./helpers";

/** The admin API as deployed: private targets refused. */
function publicApi(method: string, path: string, body?: unknown) {
  return app.request(
    path,
    { method, headers: { ...ADMIN, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) },
    { ...env, ALLOW_PRIVATE_TARGETS: "false" },
  );
}

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
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, ...fields });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(body.errors.some((e: string) => message.test(e))).toBe(true);
    expect(await count("channels")).toBe(before);
  });

  it("reports every bad field at once", async () => {
    const res = await publicApi("POST", "/portal-api/webhooks", { Name: "", Timeout: 99, Events: [] });
    const { errors } = await res.json<any>();
    expect(errors.map((e: string) => e.split(":")[0]).sort()).toEqual(["Events", "Name", "Timeout", "URL"]);
  });

  it("PATCH applies the same rules, and changes nothing when refused", async () => {
    const channel = await createChannel();
    for (const patch of [{ Timeout: 0 }, { URL: "http://127.0.0.1/x" }, { Headers: [{ Name: "Host", Value: "x" }] }, { Events: [] }]) {
      const res = await publicApi("PATCH", `/portal-api/webhooks/${channel.ID}`, patch);
      expect(res.status).toBe(422);
    }
    const row = await env.DB.prepare("select timeout_seconds, url from channels where id = ?").bind(channel.ID).first();
    expect(row).toEqual({ timeout_seconds: 10, url: channel.URL });
  });

  it("refuses malformed JSON with 400 and a non-JSON body with 415", async () => {
    const bad = await app.request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: "{" }, env);
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).errors[0]).toMatch(/^body: /);
    const text = await app.request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "text/plain" }, body: "x" }, env);
    expect(text.status).toBe(415);
    expect((await text.json<any>()).errors[0]).toMatch(/^Content-Type: /);
  });

  it("header routes apply the header rules", async () => {
    const channel = await createChannel();
    const bad = await publicApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "Webhook-Id", Value: "x" });
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^Name: is reserved/);
    const crlf = await publicApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-A", Value: "a\r\nb" });
    expect(crlf.status).toBe(422);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(0);
  });
});

describe("target-URL guard", () => {
  const dangerous = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
    "http://%6c%6f%63%61%6c%68%6f%73%74/",
    "http://127.0.0.1.nip.io.localhost/",
    "https://user:pw@example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ws://example.com/",
  ];

  it.each(dangerous)("refuses %s", async (url) => {
    expect(targetUrlProblem(url, false)).not.toBeNull();
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^URL: /);
  });

  const safe = [
    "https://crm.example.com/hooks/tyk",
    "http://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/",
    "https://api.moesif.com:8443/x?y=1",
    "https://8.8.8.8/",
  ];
  it.each(safe)("accepts %s", async (url) => {
    expect(targetUrlProblem(url, false)).toBeNull();
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(201);
  });

  it("lets loopback through only when ALLOW_PRIVATE_TARGETS is true, but never credentials or other schemes", () => {
    expect(targetUrlProblem("http://127.0.0.1:9999/hook", true)).toBeNull();
    expect(targetUrlProblem("http://localhost/", true)).toBeNull();
    expect(targetUrlProblem("http://u:p@localhost/", true)).not.toBeNull();
    expect(targetUrlProblem("file:///etc/passwd", true)).not.toBeNull();
  });
});

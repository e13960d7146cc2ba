/** A channel's custom headers: the sub-resource (`/webhooks/{id}/headers`), alone and under concurrent requests, and the names and values a channel may send. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

import { api, consume, count, createChannel, errorsOf, makeDelivery, receivedAt, target } from "../helpers";

describe("custom header names and values", () => {
  it.each([
    ["ESC", "a\x1b[31mred"],
    ["DEL", "a\x7f"],
    ["VT", "a\x0bb"],
    ["FF", "a\x0cb"],
    ["BS", "a\x08b"],
    ["NUL", "a\x00b"],
    ["a non-ASCII letter", "café"],
  ])("refuses a value with %s", async (_name, value) => {
    const channel = await createChannel();
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-A", Value: value });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Value: must hold only visible ASCII characters, spaces and tabs"]);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(0);
  });

  it("accepts visible ASCII with spaces and tabs", async () => {
    const channel = await createChannel({ Headers: [{ Name: "X-A", Value: "Bearer a~b!c\t d" }] });
    expect(channel.Headers[0]!.Value).toBe("Bearer a~b!c\t d");
  });

  it.each(["Expect", "TE", "Upgrade", "Keep-Alive", "Proxy-Authorization", "proxy-connection", "User-Agent"])("reserves %s", async (name) => {
    const res = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: "https://crm.example.com/",
      Events: ["UserRegistered"],
      Headers: [{ Name: name, Value: "100-continue" }],
    });
    expect(res.status).toBe(422);
    expect((await errorsOf(res))[0]).toMatch(/^Headers\.0\.Name: is reserved/);
  });

  it("sends its own User-Agent even if a stored header named one", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Headers: [{ Name: "X-Keep", Value: "yes" }] });
    // As a row written before User-Agent was reserved.
    await env.DB.prepare("update channel_headers set name = 'User-Agent' where channel_id = ?").bind(channel.ID).run();
    await env.DB.prepare(
      "insert into channel_headers (id, channel_id, name, value, created_at) select 'h-' || ?1, ?1, 'X-Keep', value, 1 from channel_headers where channel_id = ?1",
    )
      .bind(channel.ID)
      .run();
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [received] = await receivedAt(url);
    expect(received!.headers["user-agent"]).toBe("tyk-webhook-dispatcher/0.1.0");
    expect(received!.headers["x-keep"]).toBe("yes");
  });
});

describe("the headers sub-resource under concurrent requests", () => {
  it("stores at most 20 headers when 40 are added at once", async () => {
    const channel = await createChannel();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: `X-H${i}`, Value: "v" })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 422)).toHaveLength(20);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(20);
    const refused = results.find((r) => r.status === 422)!;
    expect(await errorsOf(refused)).toEqual(["Headers: a webhook has at most 20 headers"]);
  });

  it("stores one header when ten requests add the same name in different cases", async () => {
    const channel = await createChannel();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: i % 2 ? "X-Same" : "x-same", Value: `v${i}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(1);
    const refused = results.find((r) => r.status === 422)!;
    expect((await errorsOf(refused))[0]).toMatch(/^Name: the webhook already has a header named x?-?/i);
    // The channel still saves from its own edit form.
    const current = await (await api("GET", `/portal-api/webhooks/${channel.ID}`)).json<{ Headers: { Name: string; Value: string }[] }>();
    const saved = await api("PUT", `/portal-api/webhooks/${channel.ID}`, {
      Name: "CRM 2",
      Headers: current.Headers.map(({ Name, Value }) => ({ Name, Value })),
    });
    expect(saved.status).toBe(200);
  });

  it("refuses renaming a header onto another's name", async () => {
    const channel = await createChannel({
      Headers: [
        { Name: "X-A", Value: "1" },
        { Name: "X-B", Value: "2" },
      ],
    });
    const res = await api("PUT", `/portal-api/webhooks/${channel.ID}/headers/${channel.Headers[1]!.ID}`, { Name: "x-a" });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Name: the webhook already has a header named x-a"]);
  });
});

describe("channel API: headers sub-resource", () => {
  it("lists, adds, reads, changes and deletes headers", async () => {
    const channel = await createChannel();
    const base = `/portal-api/webhooks/${channel.ID}/headers`;
    expect(await (await api("GET", base)).json()).toEqual([]);

    const added = await api("POST", base, { Name: "Authorization", Value: "Bearer xyz" });
    expect(added.status).toBe(201);
    const header = await added.json<any>();
    expect(header).toEqual({ ID: expect.any(String), Name: "Authorization", Value: "Bearer xyz", WebhookID: channel.ID });

    expect(await (await api("GET", base)).json()).toEqual([header]);
    expect(await (await api("GET", `${base}/${header.ID}`)).json()).toEqual(header);

    const changed = await api("PUT", `${base}/${header.ID}`, { Value: "Bearer abc" });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ ...header, Value: "Bearer abc" });
    const stored = await env.DB.prepare("select value from channel_headers where id = ?").bind(header.ID).first<{ value: string }>();
    expect(stored!.value).not.toContain("abc");

    const dup = await api("POST", base, { Name: "authorization", Value: "x" });
    expect(dup.status).toBe(422);
    expect((await dup.json<any>()).errors[0]).toMatch(/^Name: /);

    expect((await api("DELETE", `${base}/${header.ID}`)).status).toBe(200);
    expect(await count("channel_headers", "id = ?", header.ID)).toBe(0);
    expect((await api("GET", `${base}/${header.ID}`)).status).toBe(404);
    expect(await errorsOf(await api("DELETE", `${base}/${header.ID}`))).toEqual(["Header: not found"]);
    // An unknown webhook is named as such on every header route.
    const unknown = `/portal-api/webhooks/${crypto.randomUUID()}/headers/${header.ID}`;
    for (const [method, body] of [["GET"], ["PUT", { Value: "x" }], ["DELETE"]] as const) {
      expect(await errorsOf(await api(method, unknown, body)), method).toEqual(["Webhook: not found"]);
    }
    expect((await api("GET", "/portal-api/webhooks/nope/headers")).status).toBe(404);
  });

  it("refuses a 21st header", async () => {
    const headers = Array.from({ length: 20 }, (_, i) => ({ Name: `X-H${i}`, Value: `${i}` }));
    const channel = await createChannel({ Headers: headers });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-H20", Value: "x" });
    expect(res.status).toBe(422);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(20);
  });
});

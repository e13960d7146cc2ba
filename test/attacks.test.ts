/**
 * What an attack on a running instance found, each class pinned by a test that failed
 * before its fix: auth by path suffix, huge invalid input, repeated keys, IPv4 inside
 * IPv6, control characters and reserved names in headers, races on the headers
 * sub-resource, deliveries of unsubscribed types, secrets echoed into the attempt log, and
 * configuration that failed silently.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { MAX_ERRORS } from "../src/core/errors";
import { recordingQueue } from "./doubles";
import {
  ADMIN,
  api,
  attemptsOf,
  consume,
  count,
  createChannel,
  delivery,
  INTAKE,
  makeDelivery,
  makeDue,
  receivedAt,
  request,
  seed,
  target,
  uniqueUserRegistered,
} from "./helpers";

const call = (path: string, init: RequestInit = {}, bindings: Record<string, unknown> = {}) =>
  app.request(path, init, { ...env, DELIVERIES: recordingQueue(), ...bindings });
const errorsOf = async (res: Response) => (await res.json<{ errors: string[] }>()).errors;
const userRegistered = JSON.parse(seed.find((s) => s.type === "UserRegistered")!.body);

describe("only /portal-api/openapi.json is public", () => {
  it("answers 401 to any other path ending in /openapi.json, whether the webhook exists or not", async () => {
    const channel = await createChannel();
    for (const path of [
      `/portal-api/webhooks/${channel.ID}/headers/openapi.json`,
      "/portal-api/webhooks/nope/headers/openapi.json",
      "/portal-api/webhooks/openapi.json",
      "/portal-api/events/openapi.json",
    ]) {
      const res = await request(path);
      expect(res.status, path).toBe(401);
      expect(await errorsOf(res)).toEqual(["Authorization: missing or wrong admin token"]);
    }
  });

  it("does not read a large body without a token", async () => {
    const res = await request("/portal-api/webhooks/openapi.json", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Name: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(res.status).toBe(401);
  });

  it("serves the API description without a token", async () => {
    const res = await request("/portal-api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/webhooks/{id}/headers");
  });
});

describe("big and deep invalid input", () => {
  it("answers 70,000 empty CustomAttributes with a short 422, not a 500", async () => {
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, CustomAttributes: Array(70_000).fill({}) } });
    const before = await count("events");
    const res = await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body });
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text.length).toBeLessThan(2000);
    expect(JSON.parse(text).errors).toEqual(["Message.CustomAttributes: must hold at most 1000 items"]);
    expect(await count("events")).toBe(before);
  });

  it("caps the error list at 20 and says how many more there were", async () => {
    // 30 bad items, each with two problems: 60 in all.
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, CustomAttributes: Array(30).fill({}) } });
    const res = await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body });
    expect(res.status).toBe(422);
    const errors = await errorsOf(res);
    expect(errors).toHaveLength(MAX_ERRORS);
    expect(errors[0]).toMatch(/^Message\.CustomAttributes\.0\.Identifier: /);
    expect(errors[MAX_ERRORS - 1]).toBe("body: 41 more problems not shown");
  });

  it("answers 150,000 invalid Events with a short 422", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: Array(150_000).fill("x") });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Events: must hold at most 100 items"]);
  });

  it("refuses an admin body over 1 MiB with 413", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x".repeat(1024 * 1024), URL: "https://crm.example.com/", Events: ["UserRegistered"] });
    expect(res.status).toBe(413);
    expect(await errorsOf(res)).toEqual(["body: larger than 1 MiB"]);
  });

  it("answers a deeply nested admin body with 422, not a 500", async () => {
    const res = await api("PATCH", "/portal-api/webhooks/nope", "[".repeat(300_000) + "]".repeat(300_000));
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["body: nested deeper than 64 levels"]);
  });

  it("refuses an event nested deeper than 64 levels, naming the field", async () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, Extra: deep(70) } });
    const before = await count("events");
    const res = await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Message.Extra: nested deeper than 64 levels"]);
    expect(await count("events")).toBe(before);
    // 60 levels is fine: unknown fields are kept.
    const ok = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, ID: Date.now(), Extra: deep(60) } });
    expect((await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: ok })).status).toBe(202);
  });
});

describe("a key given twice", () => {
  const rest = `"Message":${JSON.stringify(JSON.parse(seed.find((s) => s.type === "OrganisationRegistered")!.body).Message)},"Timestamp":"2024-04-22T16:38:54Z"`;
  it.each([
    ["two Events", `{"Event":"OrganisationRegistered","Event":"UserRegistered",${rest}}`, "Event: key given twice; each key may appear once"],
    [
      "two Events, one escaped",
      `{"Event":"OrganisationRegistered","\\u0045vent":"UserRegistered",${rest}}`,
      "Event: key given twice; each key may appear once",
    ],
    [
      "a Message field twice",
      `{"Event":"OrganisationRegistered","Message":{"ID":1,"ID":2,"Name":"x","CreatedAt":"2024-04-22T16:38:54Z"},"Timestamp":"2024-04-22T16:38:54Z"}`,
      "Message.ID: key given twice; each key may appear once",
    ],
  ])("refuses %s at intake with 422, storing nothing", async (_name, body, error) => {
    const before = await count("events");
    const res = await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual([error]);
    expect(await count("events")).toBe(before);
  });

  it("refuses a repeated field in an admin body", async () => {
    const res = await api("POST", "/portal-api/webhooks", '{"Name":"a","Name":"b","URL":"https://crm.example.com/","Events":["UserRegistered"]}');
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Name: key given twice; each key may appear once"]);
  });

  it("keeps the same key in different objects", async () => {
    const body = JSON.stringify({
      ...userRegistered,
      Message: {
        ...userRegistered.Message,
        ID: Date.now(),
        CustomAttributes: [
          { Identifier: "a", Value: "1" },
          { Identifier: "b", Value: "2" },
        ],
      },
    });
    expect((await call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body })).status).toBe(202);
  });
});

describe("IPv4 inside IPv6", () => {
  const embedded = [
    "http://[::127.0.0.1]/",
    "http://[::7f00:1]/",
    "http://[::169.254.169.254]/",
    "http://[::10.0.0.1]/",
    "http://[::8.8.8.8]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:a00:1::]/",
    "http://[2002:7f00:1::1]/",
    "http://[2001:0:a00:1::]/",
  ];
  it.each(embedded)("refuses %s at save", async (url) => {
    const res = await call(
      "/portal-api/webhooks",
      { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ Name: "x", URL: url, Events: ["UserRegistered"] }) },
      { ALLOW_PRIVATE_TARGETS: "false" },
    );
    expect(res.status).toBe(422);
    expect((await errorsOf(res))[0]).toMatch(/^URL: must not target/);
  });

  it("refuses them again at delivery", async () => {
    const channel = await createChannel();
    await env.DB.prepare("update channels set url = ? where id = ?").bind("http://[::127.0.0.1]:8787/", channel.ID).run();
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId], { ALLOW_PRIVATE_TARGETS: "false" });
    const row = await delivery(deliveryId);
    expect(row.status).toBe("failed");
    expect(row.last_error).toBe("URL must not target an IPv4-compatible IPv6 address (::/96, deprecated)");
    expect(row.attempt_count).toBe(0);
  });

  it("refuses a public IPv6 address too: Workers cannot fetch IP addresses (error 1003)", async () => {
    const res = await call(
      "/portal-api/webhooks",
      {
        method: "POST",
        headers: { ...ADMIN, "Content-Type": "application/json" },
        body: JSON.stringify({ Name: "x", URL: "https://[2606:4700::6810:84e5]/", Events: ["UserRegistered"] }),
      },
      { ALLOW_PRIVATE_TARGETS: "false" },
    );
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["URL: must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"]);
  });
});

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

describe("a type removed from Events", () => {
  it("cancels the channel's waiting deliveries of that type; a retry sends nothing; redeliver is refused", async () => {
    const url = target("flaky/1");
    const channel = await createChannel({ URL: url, Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("retrying");

    const changed = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["OrganisationRegistered"] });
    expect(changed.status).toBe(200);
    const row = await delivery(deliveryId);
    expect(row.status).toBe("cancelled");
    expect(row.last_error).toBe("webhook unsubscribed from this event type");
    expect(row.next_attempt_at).toBeNull();

    // The retry's message still arrives: it sends nothing.
    await makeDue(deliveryId);
    await consume([deliveryId]);
    expect(await receivedAt(url)).toHaveLength(1);

    const redeliver = await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    expect(redeliver.status).toBe(409);
    expect(await errorsOf(redeliver)).toEqual(["EventType: the webhook is no longer subscribed to UserRegistered"]);
    expect((await delivery(deliveryId)).status).toBe("cancelled");
  });

  it("keeps the deliveries of the types still subscribed", async () => {
    const channel = await createChannel({ URL: target("flaky/1"), Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["UserRegistered"] });
    expect((await delivery(deliveryId)).status).toBe("retrying");
  });

  it("a delivery whose type was dropped while its message was queued is cancelled, not sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    // The subscription row goes without the cancel (as a write racing the consumer's read).
    await env.DB.prepare("delete from channel_events where channel_id = ? and event_type = 'UserRegistered'").bind(channel.ID).run();
    await consume([deliveryId]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect((await delivery(deliveryId)).last_error).toBe("webhook unsubscribed from this event type");
  });
});

describe("secrets echoed by a target", () => {
  it("are masked in the stored response excerpt, the API and the attempt log", async () => {
    const channel = await createChannel({
      URL: target("echo/500"),
      Headers: [
        { Name: "X-Api-Key", Value: "sk_live_4f9a8c7e6d5b" },
        { Name: "X-Tenant", Value: "acme-corp-eu" },
      ],
    });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBe(500);
    expect(attempt.response_body).toContain("x-api-key: [redacted]");
    expect(attempt.response_body).toContain("x-tenant: [redacted]");
    expect(attempt.response_body).not.toContain("sk_live_4f9a8c7e6d5b");
    expect(attempt.response_body).not.toContain("acme-corp-eu");
    // The rest of the page is kept.
    expect(attempt.response_body).toContain("user-agent: tyk-webhook-dispatcher/0.1.0");
    const raw = await env.DB.prepare("select attempts from deliveries where id = ?").bind(deliveryId).first<{ attempts: string }>();
    expect(raw!.attempts).not.toContain("sk_live_4f9a8c7e6d5b");
    const viewed = await (await api("GET", `/portal-api/deliveries/${deliveryId}`)).text();
    expect(viewed).not.toContain("sk_live_4f9a8c7e6d5b");
  });

  it("masks a secret cut in two by the 1 KiB limit, and JSON-escaped or URL-encoded copies", async () => {
    const { maskSecrets } = await import("../src/security/mask");
    expect(maskSecrets(`${"x".repeat(10)}sk_live_4f9`, ["sk_live_4f9a8c7e6d5b"])).toBe(`${"x".repeat(10)}[redacted]`);
    expect(maskSecrets('{"echo":"a\\"b/c d"}', ['a"b/c d'])).toBe('{"echo":"[redacted]"}');
    expect(maskSecrets("?key=a%20b%26c", ["a b&c"])).toBe("?key=[redacted]");
    expect(maskSecrets("abc abc", ["abc"])).toBe("abc abc");
  });
});

describe("configuration", () => {
  it.each([
    ["RETRY_SCHEDULE", "abc", "RETRY_SCHEDULE: must be whole seconds"],
    ["RETRY_SCHEDULE", "", "RETRY_SCHEDULE: has an empty item"],
    ["RETRY_SCHEDULE", "5,,10", "RETRY_SCHEDULE: has an empty item"],
    ["RETRY_SCHEDULE", "5,-1", "RETRY_SCHEDULE: must be whole seconds"],
    ["RETENTION_DAYS", "thirty", "RETENTION_DAYS: must be a whole number of days"],
    ["RETENTION_DAYS", "0", "RETENTION_DAYS: must be at least 1"],
    ["ALLOW_PRIVATE_TARGETS", "yes", 'ALLOW_PRIVATE_TARGETS: must be "true" or "false"'],
    ["LOST_AFTER_SECONDS", "120", "LOST_AFTER_SECONDS: needs at least 2 item(s)"],
  ])("a bad %s (%j) answers every request 503, naming it", async (name, value, error) => {
    for (const [path, init] of [
      ["/healthz", {}],
      ["/portal-api/webhooks", { headers: ADMIN }],
      ["/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered() }],
    ] as const) {
      const res = await call(path, init, { [name]: value });
      expect(res.status, path).toBe(503);
      expect(await errorsOf(res)).toEqual([error]);
    }
  });

  it("consumes the queues it is configured with, by exact name, and refuses any other", async () => {
    const { createExecutionContext, createMessageBatch } = await import("cloudflare:test");
    const { worker } = await import("./helpers");
    const batch = createMessageBatch("tyk-webhook-deliveries-dlq-old", [{ id: "m", timestamp: new Date(), attempts: 1, body: { deliveryId: "x" } }]);
    await expect(worker.queue(batch as never, env, createExecutionContext())).rejects.toThrow(
      /queue tyk-webhook-deliveries-dlq-old: not tyk-webhook-deliveries, tyk-webhook-deliveries-dlq or tyk-webhook-events-to-store/,
    );
    // A deployment's own names, through its vars.
    const channel = await createChannel({ URL: target() });
    const { deliveryId } = await makeDelivery(channel.ID);
    // An attempt of this run was recorded: the dead letter ends it failed.
    await env.DB.prepare("update deliveries set attempt_count = 1 where id = ?").bind(deliveryId).run();
    const renamed = { DELIVERY_QUEUE: "staging-deliveries", DEAD_LETTER_QUEUE: "staging-deliveries-dlq" };
    const dead = createMessageBatch("staging-deliveries-dlq", [
      { id: "m", timestamp: new Date(), attempts: 1, body: { deliveryId, channelId: channel.ID, generation: 0 } },
    ]);
    await worker.queue(dead as never, { ...env, ...renamed } as never, createExecutionContext());
    expect((await delivery(deliveryId)).status).toBe("failed");
  });

  it("uses the defaults when a var is not set", async () => {
    const { config } = await import("../src/core/env");
    const parsed = config({ DB: env.DB } as never);
    expect(parsed).toEqual({
      allowPrivateTargets: false,
      retrySchedule: [5, 300, 1800, 7200, 18000, 36000, 36000],
      retentionDays: 30,
      lostAfter: { pendingMs: 120_000, retryingMs: 300_000 },
      queues: {
        deliveries: "tyk-webhook-deliveries",
        deadLetters: "tyk-webhook-deliveries-dlq",
        store: "tyk-webhook-events-to-store",
        storeDeadLetters: "tyk-webhook-events-to-store-dlq",
      },
    });
  });

  it("the consumer holds its batch back instead of sending on a bad schedule", async () => {
    const url = target();
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId], { RETRY_SCHEDULE: "abc" });
    expect(result.retriedBatch.retry).toBe(true);
    expect(result.acked).toEqual([]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect((await delivery(deliveryId)).status).toBe("pending");
  });
});

describe("unknown fields", () => {
  it.each([
    [
      "POST /webhooks",
      "POST",
      "/portal-api/webhooks",
      { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Fitler: {} },
      "Fitler: unknown field",
    ],
    ["PATCH /webhooks/{id}", "PATCH", "/portal-api/webhooks/ID", { Enabeld: false }, "Enabeld: unknown field"],
    [
      "a header in Headers",
      "POST",
      "/portal-api/webhooks",
      { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Headers: [{ Name: "X-A", Value: "1", Secret: true }] },
      "Headers.0.Secret: unknown field",
    ],
    ["POST /headers", "POST", "/portal-api/webhooks/ID/headers", { Name: "X-A", Value: "1", Valeu: "2" }, "Valeu: unknown field"],
    ["POST /recover", "POST", "/portal-api/webhooks/ID/recover", { Since: "2024-01-01T00:00:00Z", Untill: "x" }, "Untill: unknown field"],
  ])("%s answers 422 naming the field", async (_name, method, path, body, error) => {
    const channel = await createChannel();
    const res = await api(method, path.replace("ID", channel.ID), body);
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toContain(error);
  });
});

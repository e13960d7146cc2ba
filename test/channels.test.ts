import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { ADMIN, api, count, createChannel, receivedAt, request, target } from "./helpers";

describe("channel API: create and read", () => {
  it("creates a channel with defaults and stores it in D1", async () => {
    const res = await api("POST", "/portal-api/webhooks", {
      Name: "CRM",
      URL: "https://crm.example.com/hooks/tyk",
      Events: ["UserRegistered", "AccessRequestCreated"],
      Headers: [{ Name: "X-Api-Key", Value: "k-123" }],
    });
    expect(res.status).toBe(201);
    const channel = await res.json<any>();
    expect(channel).toMatchObject({
      Name: "CRM",
      URL: "https://crm.example.com/hooks/tyk",
      Method: "POST",
      Timeout: 10,
      Events: ["UserRegistered", "AccessRequestCreated"],
      Enabled: true,
      DisabledReason: null,
    });
    expect(channel.Headers).toEqual([{ ID: expect.any(String), Name: "X-Api-Key", Value: "k-123" }]);
    expect(new Date(channel.CreatedAt).toISOString()).toBe(channel.CreatedAt);

    const row = await env.DB.prepare("select * from channels where id = ?").bind(channel.ID).first<any>();
    expect(row).toMatchObject({ name: "CRM", method: "POST", timeout_seconds: 10, enabled: 1 });
    expect(await count("channel_events", "channel_id = ?", channel.ID)).toBe(2);
    const header = await env.DB.prepare("select * from channel_headers where channel_id = ?").bind(channel.ID).first<any>();
    expect(header.name).toBe("X-Api-Key");
    // Secrets at rest are encrypted.
    expect(header.value).not.toContain("k-123");
    expect(row.secret).toMatch(/^enc1:/);
  });

  it("reads a channel back, and 404s for an unknown id", async () => {
    const created = await createChannel({ Method: "PUT", Timeout: 30 });
    const res = await api("GET", `/portal-api/webhooks/${created.ID}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(created);

    const missing = await api("GET", "/portal-api/webhooks/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: ["Webhook: not found"] });
  });

  it("lists channels with page and per_page", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createChannel({ Name: `page-${i}` }));
    const all = await (await api("GET", "/portal-api/webhooks?per_page=100")).json<any[]>();
    const ids = all.map((c) => c.ID);
    expect(ids).toEqual(expect.arrayContaining(made.map((c) => c.ID)));
    const position = ids.indexOf(made[0]!.ID);

    // With one per page, page n holds the channel at index n - 1: made[1] is right after made[0].
    const one = await (await api("GET", `/portal-api/webhooks?page=${position + 2}&per_page=1`)).json<any[]>();
    expect(one).toHaveLength(1);
    expect(one[0].ID).toBe(made[1]!.ID);

    const bad = await api("GET", "/portal-api/webhooks?per_page=0");
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^per_page: /);
  });
});

describe("channel API: update and delete", () => {
  it("PATCH changes only the fields given", async () => {
    const created = await createChannel({ Headers: [{ Name: "X-Keep", Value: "v" }] });
    const res = await api("PATCH", `/portal-api/webhooks/${created.ID}`, { Name: "Billing", Timeout: 5 });
    expect(res.status).toBe(200);
    const updated = await res.json<any>();
    expect(updated).toMatchObject({ Name: "Billing", Timeout: 5, URL: created.URL, Events: created.Events, Headers: created.Headers });
    const row = await env.DB.prepare("select name, timeout_seconds, url from channels where id = ?").bind(created.ID).first();
    expect(row).toEqual({ name: "Billing", timeout_seconds: 5, url: created.URL });
  });

  it("PUT replaces events and headers when given", async () => {
    const created = await createChannel({ Headers: [{ Name: "X-Old", Value: "1" }] });
    const res = await api("PUT", `/portal-api/webhooks/${created.ID}`, {
      Events: ["PasswordReset", "UserRegistered"],
      Headers: [{ Name: "X-New", Value: "2" }],
      Method: "PATCH",
    });
    expect(res.status).toBe(200);
    const updated = await res.json<any>();
    expect(updated.Events).toEqual(["UserRegistered", "PasswordReset"]);
    expect(updated.Headers.map((h: any) => [h.Name, h.Value])).toEqual([["X-New", "2"]]);
    expect(updated.Method).toBe("PATCH");
    expect(updated.Name).toBe(created.Name);
    const events = await env.DB.prepare("select event_type from channel_events where channel_id = ? order by event_type").bind(created.ID).all();
    expect(events.results.map((r: any) => r.event_type)).toEqual(["PasswordReset", "UserRegistered"]);
    expect(await count("channel_headers", "channel_id = ?", created.ID)).toBe(1);
  });

  it("disabling and re-enabling clears the reason", async () => {
    const created = await createChannel();
    await env.DB.prepare("update channels set enabled = 0, disabled_reason = 'target answered 410 Gone' where id = ?").bind(created.ID).run();
    const disabled = await (await api("GET", `/portal-api/webhooks/${created.ID}`)).json<any>();
    expect(disabled).toMatchObject({ Enabled: false, DisabledReason: "target answered 410 Gone" });
    const enabled = await (await api("PATCH", `/portal-api/webhooks/${created.ID}`, { Enabled: true })).json<any>();
    expect(enabled).toMatchObject({ Enabled: true, DisabledReason: null });
  });

  it("DELETE removes the channel, its events and headers, and cancels waiting deliveries", async () => {
    const created = await createChannel({ Headers: [{ Name: "X-A", Value: "a" }] });
    const now = Date.now();
    await env.DB.batch(
      ["pending", "retrying", "succeeded"].map((status, i) =>
        env.DB.prepare(
          "insert into deliveries (id, event_id, channel_id, event_type, status, created_at, updated_at) values (?, 'e', ?, 'UserRegistered', ?, ?, ?)",
        ).bind(`${created.ID}-${i}`, created.ID, status, now, now),
      ),
    );
    const res = await api("DELETE", `/portal-api/webhooks/${created.ID}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(await count("channels", "id = ?", created.ID)).toBe(0);
    expect(await count("channel_events", "channel_id = ?", created.ID)).toBe(0);
    expect(await count("channel_headers", "channel_id = ?", created.ID)).toBe(0);
    const statuses = await env.DB.prepare("select status from deliveries where channel_id = ? order by id").bind(created.ID).all();
    expect(statuses.results.map((r: any) => r.status)).toEqual(["cancelled", "cancelled", "succeeded"]);

    expect((await api("DELETE", `/portal-api/webhooks/${created.ID}`)).status).toBe(404);
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

describe("channel API: signing secret", () => {
  it("creates a whsec_ secret of 32 random bytes and rotates it, keeping the old one for 24 h", async () => {
    const channel = await createChannel();
    const first = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    expect(first.Secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(first.Secret.slice(6))).toHaveLength(32);
    expect(first.PreviousSecret).toBeNull();

    const rotated = await api("POST", `/portal-api/webhooks/${channel.ID}/secret/rotate`);
    expect(rotated.status).toBe(200);
    const { Secret } = await rotated.json<any>();
    expect(Secret).toMatch(/^whsec_/);
    expect(Secret).not.toBe(first.Secret);

    const after = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    expect(after.Secret).toBe(Secret);
    expect(after.PreviousSecret).toBe(first.Secret);
    const expires = Date.parse(after.PreviousSecretExpiresAt) - Date.now();
    expect(expires).toBeGreaterThan(23.9 * 3600_000);
    expect(expires).toBeLessThanOrEqual(24 * 3600_000);
  });
});

describe("channel API: Test Connection", () => {
  it("sends a HEAD without the custom headers and reports the answer", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Headers: [{ Name: "X-Secret-Header", Value: "s3cret" }] });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test`);
    expect(res.status).toBe(200);
    const result = await res.json<any>();
    expect(result).toMatchObject({ Success: true, StatusCode: 200, Error: null });
    expect(result.DurationMs).toBeGreaterThanOrEqual(0);
    const [seen, ...more] = await receivedAt(url);
    expect(more).toHaveLength(0);
    expect(seen!.method).toBe("HEAD");
    expect(seen!.headers["x-secret-header"]).toBeUndefined();
  });

  it("reports a non-2xx answer as a failure with its status", async () => {
    const channel = await createChannel({ URL: target("status/404") });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: 404 });
    expect(result.Error).toContain("404");
  });

  it("reports a closed port as a connection error", async () => {
    const channel = await createChannel({ URL: `http://127.0.0.1:${inject("closedPort")}/hook` });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result.Success).toBe(false);
    expect(result.StatusCode).toBeNull();
    expect(result.Error).toBeTruthy();
  });

  it("gives up on a slow server after the channel's Timeout", async () => {
    const channel = await createChannel({ URL: target("sleep/3000"), Timeout: 1 });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: null, Error: "timed out after 1s" });
    expect(result.DurationMs).toBeGreaterThanOrEqual(900);
    expect(result.DurationMs).toBeLessThan(2900);
  });
});

describe("admin auth", () => {
  const routes: [string, string][] = [
    ["GET", "/portal-api/webhooks"],
    ["POST", "/portal-api/webhooks"],
    ["GET", "/portal-api/webhooks/x"],
    ["PUT", "/portal-api/webhooks/x"],
    ["PATCH", "/portal-api/webhooks/x"],
    ["DELETE", "/portal-api/webhooks/x"],
    ["GET", "/portal-api/webhooks/x/headers"],
    ["POST", "/portal-api/webhooks/x/headers"],
    ["GET", "/portal-api/webhooks/x/headers/y"],
    ["PUT", "/portal-api/webhooks/x/headers/y"],
    ["DELETE", "/portal-api/webhooks/x/headers/y"],
    ["POST", "/portal-api/webhooks/x/test"],
    ["GET", "/portal-api/webhooks/x/secret"],
    ["POST", "/portal-api/webhooks/x/secret/rotate"],
    ["GET", "/portal-api/webhooks/x/deliveries"],
    ["POST", "/portal-api/webhooks/x/recover"],
    ["GET", "/portal-api/deliveries/x"],
    ["POST", "/portal-api/deliveries/x/redeliver"],
    ["GET", "/portal-api/events"],
    ["GET", "/portal-api/events/x"],
    ["GET", "/portal-api/event-types"],
  ];

  it.each(routes)("%s %s answers 401 without a token, with a wrong one, and with the intake token", async (method, path) => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: "Bearer wrong" },
      { Authorization: "wrong" },
      { Authorization: `Bearer ${env.INTAKE_TOKEN}` },
    ]) {
      const res = await request(path, { method, headers });
      expect(res.status).toBe(401);
      const body = await res.json<any>();
      expect(body.errors[0]).toMatch(/^Authorization: /);
    }
  });

  it("accepts the admin token bare or as Bearer", async () => {
    expect((await request("/portal-api/event-types", { headers: { Authorization: env.ADMIN_TOKEN! } })).status).toBe(200);
    expect((await request("/portal-api/event-types", { headers: ADMIN })).status).toBe(200);
  });

  it("refuses everything when ADMIN_TOKEN is not configured", async () => {
    const { app } = await import("../src/app");
    const res = await app.request("/portal-api/event-types", { headers: { Authorization: "Bearer " } }, { ...env, ADMIN_TOKEN: undefined });
    expect(res.status).toBe(401);
    const res2 = await app.request("/portal-api/event-types", { headers: { Authorization: "undefined" } }, { ...env, ADMIN_TOKEN: undefined });
    expect(res2.status).toBe(401);
  });
});

describe("misc routes", () => {
  it("GET /healthz", async () => {
    const res = await request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("GET /portal-api/event-types lists the 14 portal types, then the 2 operational ones", async () => {
    const types = await (await api("GET", "/portal-api/event-types")).json<string[]>();
    expect(types).toHaveLength(16);
    expect(types.slice(14)).toEqual(["Dispatcher.DeliveryFailed", "Dispatcher.WebhookDisabled"]);
    expect(types).toContain("RegisterInvite");
    expect(types).toContain("OrganisationRequestRejected");
  });

  it("openapi.json is public and documents every route", async () => {
    const res = await request("/portal-api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    const ops = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        "GET /webhooks",
        "POST /webhooks",
        "GET /webhooks/{id}",
        "PUT /webhooks/{id}",
        "PATCH /webhooks/{id}",
        "DELETE /webhooks/{id}",
        "GET /webhooks/{id}/headers",
        "POST /webhooks/{id}/headers",
        "GET /webhooks/{id}/headers/{header_id}",
        "GET /webhooks/{id}/lanes",
        "PUT /webhooks/{id}/headers/{header_id}",
        "DELETE /webhooks/{id}/headers/{header_id}",
        "POST /webhooks/{id}/test",
        "GET /webhooks/{id}/secret",
        "POST /webhooks/{id}/secret/rotate",
        "GET /webhooks/{id}/deliveries",
        "POST /webhooks/{id}/recover",
        "GET /deliveries/{id}",
        "POST /deliveries/{id}/redeliver",
        "GET /events",
        "GET /events/{id}",
        "GET /event-types",
        "GET /intake",
        "GET /intake/token",
        "POST /webhooks/{id}/test-event",
        "GET /deliveries",
        "POST /deliveries/recover",
        "GET /stats",
        "POST /routing/preview",
        "GET /templates",
        "POST /integrations/preview",
        "POST /webhooks/{id}/replay",
        // Intake, outside /portal-api: its operation names its own server.
        "POST /events",
      ].sort(),
    );
    expect(doc.components.schemas.ChannelCreate.required).toEqual(expect.arrayContaining(["Name", "URL", "Events"]));
    const intake = doc.paths["/events"].post;
    expect(intake.servers).toEqual([expect.objectContaining({ url: "/" })]);
    expect(intake.security).toEqual([{ IntakeToken: [] }]);
    expect(Object.keys(intake.responses).sort()).toEqual(["200", "202", "400", "401", "413", "415", "422", "503"]);
    expect(intake.responses["503"].headers["Retry-After"]).toBeDefined();
    expect(intake.responses["202"].content["application/json"].schema.properties).toHaveProperty("Deliveries");
    expect(doc.components.schemas.PortalEvent.anyOf ?? doc.components.schemas.PortalEvent.oneOf).toHaveLength(14);
    expect(doc.paths["/events"].get.servers).toBeUndefined();
    // The admin UI takes its status list from here (public/js/api-facts.js).
    expect(doc.components.schemas.Delivery.properties.Status.enum).toEqual(["pending", "retrying", "held", "succeeded", "failed", "cancelled"]);
  });

  it("unknown paths answer 404 in the error shape", async () => {
    const res = await request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: ["path: not found"] });
  });
});

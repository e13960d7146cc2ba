/** The channel (webhook) API: create, read, update, delete, and what each leaves in D1. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, count, createChannel } from "../helpers";

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

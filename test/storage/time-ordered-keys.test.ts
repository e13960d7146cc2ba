/** The migration to time-ordered keys (0010): the previous schema's events and deliveries carried over, with their history. */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { idFloor } from "../../src/db/ids";
import { recordingQueue } from "../doubles";
import { ADMIN, api, postEvent, runQueue, runSweep, uniqueUserRegistered } from "../helpers";
import { UUID_V7 } from "./uuid-v7";

const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("the migration to time-ordered keys", () => {
  it("carries the previous schema's events and deliveries over, with their history", async () => {
    const db = env.MIGRATION_DB;
    const all = env.TEST_MIGRATIONS;
    const at = all.findIndex((m) => m.name.startsWith("0010_"));
    expect(at).toBeGreaterThan(0);
    await applyD1Migrations(db, all.slice(0, at));

    // Rows as the previous schema held them: random ids, a rowid table, indexes on time.
    const now = Date.now();
    const [t1, t2] = [now - 120_000, now - 60_000];
    const body1 = uniqueUserRegistered();
    const attempt = { attempt: 1, startedAt: t1 + 5, durationMs: 12, statusCode: 200, error: null, responseBody: "ok" };
    await db.batch([
      db
        .prepare("insert into channels (id, name, url, secret, created_at, updated_at) values ('ch-1', 'CRM', 'https://crm.example.com/h', 'x', ?1, ?1)")
        .bind(t1),
      db.prepare("insert into channel_events (event_type, channel_id) values ('UserRegistered', 'ch-1')"),
      db.prepare("insert into deleted_channels (id, name, deleted_at) values ('ch-gone', 'Old CRM', ?1)").bind(t2),
      db
        .prepare("insert into events (id, type, body, received_at, body_hash) values ('6f1c2a9e-0b7d-4c1e-9a2b-3c4d5e6f7a8b', 'UserRegistered', ?1, ?2, ?3)")
        .bind(body1, t1, await sha256(body1)),
      db
        .prepare("insert into events (id, type, body, received_at) values ('0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70', 'UserRegistered', '{\"n\":2}', ?1)")
        .bind(t2),
      db
        .prepare(
          `insert into deliveries (id, event_id, channel_id, event_type, status, attempt_count, attempts, last_status_code, created_at, updated_at) values
           ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '6f1c2a9e-0b7d-4c1e-9a2b-3c4d5e6f7a8b', 'ch-1', 'UserRegistered', 'succeeded', 1, ?2, 200, ?1, ?1),
           ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2', '6f1c2a9e-0b7d-4c1e-9a2b-3c4d5e6f7a8b', 'ch-gone', 'UserRegistered', 'failed', 8, '[]', 500, ?1, ?1)`,
        )
        .bind(t1, JSON.stringify([attempt])),
      db
        .prepare(
          `insert into deliveries (id, event_id, channel_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at)
           values ('ccccccccccccccccccccccccccccccc3', '0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70', 'ch-1', 'UserRegistered', 'retrying', 2, ?1, ?1, ?1)`,
        )
        .bind(t2),
    ]);

    await applyD1Migrations(db, all);

    const queue = recordingQueue();
    const bindings = { DB: db, DELIVERIES: queue };
    const get = async (path: string) => {
      const res = await api("GET", path, undefined, ADMIN, bindings);
      expect(res.status, path).toBe(200);
      return res.json<any>();
    };
    // The events, newest first, their bodies byte for byte, their ids UUIDv7s of their time.
    const events = await get("/portal-api/events");
    expect(events.map((e: any) => [e.ReceivedAt, e.ID.slice(0, 13)])).toEqual([
      [new Date(t2).toISOString(), idFloor(t2)],
      [new Date(t1).toISOString(), idFloor(t1)],
    ]);
    const raw = await db.prepare("select body from events where id = ?").bind(events[1].ID).first<{ body: string }>();
    expect(raw!.body).toBe(body1);
    // The first event with both its deliveries, the deleted channel's still named.
    const first = await get(`/portal-api/events/${events[1].ID}`);
    expect(first.Deliveries.map((d: any) => [d.WebhookID, d.Status, d.AttemptCount])).toEqual(
      expect.arrayContaining([
        ["ch-1", "succeeded", 1],
        ["ch-gone", "failed", 8],
      ]),
    );
    expect(first.Deliveries).toHaveLength(2);
    for (const d of first.Deliveries) expect(d.ID).toMatch(UUID_V7);
    // A channel's deliveries newest first; one read alone keeps its attempt log.
    const listed = await get("/portal-api/webhooks/ch-1/deliveries");
    expect(listed.map((d: any) => d.Status)).toEqual(["retrying", "succeeded"]);
    const one = await get(`/portal-api/deliveries/${listed[1].ID}`);
    expect(one.Attempts).toEqual([{ Attempt: 1, StartedAt: new Date(t1 + 5).toISOString(), DurationMs: 12, StatusCode: 200, Error: null, ResponseBody: "ok" }]);
    // The dedupe still knows the first body.
    const again = await postEvent(body1, {}, bindings);
    expect(await again.json()).toEqual({ ID: events[1].ID, Deliveries: 2, Duplicate: true });

    // A message sent before the migration names an old id: dropped, nothing sent.
    const old = await runQueue("tyk-webhook-deliveries", [{ deliveryId: "ccccccccccccccccccccccccccccccc3", generation: 0 }], bindings);
    expect(old.acked).toEqual(["msg-0"]);
    // The sweeper sends the waiting delivery again, by its new key.
    const { reclaimed } = await runSweep(bindings, now + 3600_000);
    expect(reclaimed).toEqual([{ deliveryId: listed[0].ID, channelId: "ch-1", generation: 1 }]);
  });
});

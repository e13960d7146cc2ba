/**
 * How events and deliveries are stored: UUIDv7 keys in time order, every read a range of a
 * primary key or an index, and the migration that brought the previous schema's rows over.
 */
import { applyD1Migrations, createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { idFloor, timeOrderedId } from "../src/db/ids";
import type { DeliveryMessage } from "../src/db/records";
import { sweep } from "../src/sweeper/sweep";
import { countingD1, recordingQueue } from "./doubles";
import { ADMIN, consume, createChannel, INTAKE, makeDelivery, target, uniqueUserRegistered, worker } from "./helpers";

const sha256 = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("ids", () => {
  it("are UUIDv7s of their time, so key order is time order", () => {
    const at = Date.UTC(2026, 10, 29, 6, 20, 15, 123);
    const id = timeOrderedId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(idFloor(at) < id && id < idFloor(at + 1)).toBe(true);
    expect(timeOrderedId(at - 1) < id && id < timeOrderedId(at + 1)).toBe(true);
  });

  it("increase within one millisecond, as Workers' clock stands still during a request (RFC 9562 §6.2)", () => {
    const at = Date.now() + 7 * 86400_000;
    const ids = Array.from({ length: 2000 }, () => timeOrderedId(at));
    expect(ids.every((id) => id.slice(0, 13) === idFloor(at))).toBe(true);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("an event's deliveries carry its time in their ids", async () => {
    const channels = await Promise.all([createChannel(), createChannel()]);
    const queue = recordingQueue();
    const res = await app.request(
      "/events",
      { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered() },
      { ...env, DELIVERIES: queue },
    );
    const { ID } = await res.json<{ ID: string }>();
    expect(ID).toMatch(UUID_V7);
    const event = await env.DB.prepare("select received_at from events where id = ?").bind(ID).first<{ received_at: number }>();
    expect(ID.slice(0, 13)).toBe(idFloor(event!.received_at));
    const sent = queue.sent.flat().map((m) => m.body as DeliveryMessage);
    expect(sent.map((m) => m.channelId).sort()).toEqual(channels.map((c) => c.ID).sort());
    for (const m of sent) {
      expect(m.deliveryId).toMatch(UUID_V7);
      expect(m.deliveryId.slice(0, 13)).toBe(ID.slice(0, 13));
    }
  });
});

describe("lists newest first", () => {
  // Three channels' deliveries made at interleaved times, a second apart, oldest first; a
  // day further ahead each time, so that they are the newest this file's database holds.
  let days = 0;
  async function interleaved() {
    const channels = await Promise.all([createChannel(), createChannel(), createChannel()]);
    const start = Date.now() + ++days * 86400_000;
    const made = [];
    for (let i = 0; i < 9; i++)
      made.push({ ...(await makeDelivery(channels[(i * 2) % 3]!.ID, undefined, start + i * 1000)), channel: channels[(i * 2) % 3]!.ID });
    return { channels, newestFirst: made.reverse(), start };
  }

  const pages = async (path: string) => {
    const ids = [];
    for (let page = 1; page <= 4; page++) {
      const res = await app.request(`${path}${path.includes("?") ? "&" : "?"}per_page=2&page=${page}`, { headers: ADMIN }, env);
      expect(res.status).toBe(200);
      ids.push(...(await res.json<{ ID: string }[]>()).map((d) => d.ID));
    }
    return ids;
  };

  it("across channels, page by page, merged from each channel's key range", async () => {
    const { newestFirst, start } = await interleaved();
    const since = new Date(start).toISOString();
    expect(await pages(`/portal-api/deliveries?since=${since}`)).toEqual(newestFirst.slice(0, 8).map((d) => d.deliveryId));
    // Narrowed by time: [start + 2 s, start + 6 s).
    const window = `since=${new Date(start + 2000).toISOString()}&until=${new Date(start + 6000).toISOString()}`;
    expect(await pages(`/portal-api/deliveries?${window}`)).toEqual(newestFirst.slice(3, 7).map((d) => d.deliveryId));
    const one = newestFirst[0]!;
    expect(await pages(`/portal-api/webhooks/${one.channel}/deliveries`)).toEqual(
      newestFirst.filter((d) => d.channel === one.channel).map((d) => d.deliveryId),
    );
  });

  it("across channels, when few match: from the last hour, the last day, then everything", async () => {
    const channels = await Promise.all([createChannel(), createChannel()]);
    const now = Date.now();
    const agesMs = [10 * 60_000, 20 * 60_000, 2 * 3600_000, 3 * 3600_000, 2 * 86400_000];
    const made = [];
    for (const [i, age] of agesMs.entries()) made.push((await makeDelivery(channels[i % 2]!.ID, undefined, now - age)).deliveryId);
    await env.DB.prepare("update deliveries set status = 'cancelled' where id in (select value from json_each(?))").bind(JSON.stringify(made)).run();
    expect(await pages("/portal-api/deliveries?status=cancelled")).toEqual(made);
  });

  it("across event types, page by page", async () => {
    const { newestFirst, start } = await interleaved();
    const other = timeOrderedId(start + 8500);
    await env.DB.prepare("insert into events (id, type, body, received_at) values (?, 'PasswordReset', '{}', ?)")
      .bind(other, start + 8500)
      .run();
    const listed = await pages("/portal-api/events");
    expect(listed.slice(0, 5)).toEqual([other, ...newestFirst.slice(0, 4).map((d) => d.eventId)]);
    expect((await pages("/portal-api/events?type=PasswordReset"))[0]).toBe(other);
  });
});

/**
 * Explains the plan of each statement run: what reads the deliveries or the events must
 * read a range of a primary key or an index, never the whole table, however many rows it
 * holds. Returns the full reads found.
 */
async function fullScans(statements: { sql: string; args: unknown[] }[]) {
  const scans = new Set<string>();
  for (const { sql, args } of statements) {
    if (!/\b(deliveries|events)\b/.test(sql)) continue;
    const { results } = await env.DB.prepare(`explain query plan ${sql}`)
      .bind(...args)
      .all<{ detail: string }>();
    for (const { detail } of results) {
      // The tables' own names and the aliases the queries give them. The live partial
      // indexes hold only live deliveries (of ordered channels, for deliveries_lane): reading
      // one whole is the sweeper's bounded look at what waits.
      if (/^SCAN (deliveries|events|d|e|newest)\b/.test(detail) && !/INDEX deliveries_(live|lane)\b/.test(detail))
        scans.add(`${detail} in: ${sql.replace(/\s+/g, " ")}`);
    }
  }
  return [...scans];
}

describe("every read is a key range or an index", () => {
  it("for the admin API, the intake, the consumer and the sweeper", async () => {
    const { db, counter } = countingD1(env.DB);
    const bindings = { ...env, DB: db, DELIVERIES: recordingQueue() };
    const call = async (method: string, path: string, body?: unknown, headers = ADMIN) => {
      const init = { method, headers: { ...headers, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) };
      const res = await app.request(path, init, bindings);
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.json<any>();
    };
    const channel = await createChannel({ URL: target("status/500") });
    const other = await createChannel({ URL: target("ok") });
    const event = uniqueUserRegistered();
    const posted = await call("POST", "/events", JSON.parse(event), INTAKE);
    await call("POST", "/events", JSON.parse(event), INTAKE); // the duplicate
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId], { DB: db, RETRY_SCHEDULE: "1" });
    const since = new Date(Date.now() - 3600_000).toISOString();
    for (const path of [
      `/portal-api/webhooks/${channel.ID}/deliveries`,
      `/portal-api/webhooks/${channel.ID}/deliveries?status=failed`,
      "/portal-api/deliveries",
      `/portal-api/deliveries?status=retrying&event_type=UserRegistered&since=${since}`,
      `/portal-api/deliveries?event_id=${posted.ID}`,
      `/portal-api/deliveries?webhook_id=${other.ID}&status=pending`,
      `/portal-api/deliveries/${deliveryId}`,
      "/portal-api/events",
      "/portal-api/events?type=UserRegistered",
      `/portal-api/events/${posted.ID}`,
      "/portal-api/stats",
      `/portal-api/stats?webhook_id=${channel.ID}&since=${since}`,
      "/portal-api/intake",
    ]) {
      await call("GET", path);
    }
    await call("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    await call("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: since });
    await call("POST", "/portal-api/deliveries/recover", { Since: since, DryRun: true });
    await call("POST", "/portal-api/deliveries/recover", { Since: since, EventType: "UserRegistered" });
    await call("PATCH", `/portal-api/webhooks/${other.ID}`, { Paused: true });
    await call("PATCH", `/portal-api/webhooks/${other.ID}`, { Paused: false });
    await sweep(bindings as never, Date.now() + 3600_000);
    await call("DELETE", `/portal-api/webhooks/${channel.ID}`);
    expect(counter.statements.length).toBeGreaterThan(30);
    expect(await fullScans(counter.statements)).toEqual([]);
  });
});

/**
 * What the statements that run on a schedule or per batch read on a filled database: a
 * month of traffic (5 channels, 720 hours of counts each, 20,000 events and deliveries,
 * 300 retrying). Each must read in proportion to what it finds or changes, never to the
 * table: D1 bills rows read, and the Free plan's 5 M a day is spent in minutes otherwise.
 */
describe("recurring statements read what they find, not the table", () => {
  const HOUR = 3600_000;
  const CHANNELS = 5;

  /** A month of traffic written straight to the filled database, `now` its present. */
  async function fill(db: D1Database, now: number) {
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const bindings = { ...env, DB: db, DELIVERIES: recordingQueue() };
    const channels: string[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const res = await app.request(
        "/portal-api/webhooks",
        {
          method: "POST",
          headers: { ...ADMIN, "Content-Type": "application/json" },
          body: JSON.stringify({ Name: `Filled ${i}`, URL: target("ok"), Events: ["UserRegistered", "PasswordReset"] }),
        },
        bindings,
      );
      channels.push((await res.json<{ ID: string }>()).ID);
    }
    const hourNow = Math.floor(now / HOUR) * HOUR;
    // Counts for every channel and hour of the retention (30 days), and one hour past it.
    await db
      .prepare(
        `insert into delivery_counts (channel_id, hour, succeeded, failed)
         select c.value, ?1 - h.value * 3600000, 10, 1 from json_each(?2) as c,
           (with recursive n(value) as (select 0 union all select value + 1 from n where value < 721) select value from n) as h`,
      )
      .bind(hourNow, JSON.stringify(channels))
      .run();
    // 20,000 events and their deliveries over 30 days, all ended; ids of their time.
    await db
      .prepare(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < 19999),
         t(i, at) as (select i, ?1 - 30 * 86400000 + 60000 + i * 129000 from n)
         insert into events (id, type, body, received_at)
         select printf('%08x-%04x-7%03x-%04x-%012x', at >> 16, at & 65535, i & 4095, 32768 | (i >> 12), i), 'UserRegistered', '{}', at from t`,
      )
      .bind(now)
      .run();
    await db
      .prepare(
        `insert into deliveries (id, event_id, channel_id, event_type, status, attempt_count, created_at, updated_at)
         select substr(e.id, 1, 24) || printf('%012x', abs(random()) % 281474976710655), e.id, c.value, e.type, 'succeeded', 1, e.received_at, e.received_at
         from events as e join json_each(?1) as c on c.key = (cast(substr(e.id, 25) as integer) % ?2)`,
      )
      .bind(JSON.stringify(channels), CHANNELS)
      .run();
    // A failing target's backlog: 300 retrying, due later; and 3 whose queue message was lost.
    await db
      .prepare(
        `update deliveries set status = 'retrying', next_attempt_at = ?1 + 3600000
         where channel_id = ?2 and id in (select id from deliveries where channel_id = ?2 order by id desc limit 300)`,
      )
      .bind(now, channels[0])
      .run();
    await db
      .prepare(
        `update deliveries set status = 'pending', next_attempt_at = ?1 - 600000, updated_at = ?1 - 600000
         where channel_id = ?2 and id in (select id from deliveries where channel_id = ?2 order by id desc limit 3)`,
      )
      .bind(now, channels[1])
      .run();
    // 40 events and deliveries a minute past the retention: one run's purge.
    await db
      .prepare(
        `with recursive n(i) as (select 0 union all select i + 1 from n where i < 39),
         t(i, at) as (select i, ?1 - 30 * 86400000 - 60000 + i * 1000 from n)
         insert into events (id, type, body, received_at)
         select printf('%08x-%04x-7fff-%04x-%012x', at >> 16, at & 65535, 32768 | i, i), 'PasswordReset', '{}', at from t`,
      )
      .bind(now)
      .run();
    await db
      .prepare(
        `insert into deliveries (id, event_id, channel_id, event_type, status, attempt_count, created_at, updated_at)
         select substr(e.id, 1, 24) || 'ffffffffffff', e.id, ?1, e.type, 'succeeded', 1, e.received_at, e.received_at
         from events as e where e.type = 'PasswordReset'`,
      )
      .bind(channels[2])
      .run();
    return { channels, bindings };
  }

  /** The plans of `statements` that read any table whole (a SCAN not through an index). */
  async function scansOf(db: D1Database, statements: { sql: string; args: unknown[] }[]) {
    const scans: string[] = [];
    for (const { sql, args } of statements) {
      const { results } = await db
        .prepare(`explain query plan ${sql}`)
        .bind(...args)
        .all<{ detail: string }>();
      // What the statement derives itself (subqueries, CTEs, json_each) is not a table.
      const derived = new Set(results.map((r) => /^(?:CO-ROUTINE|MATERIALIZE) (.+)$/.exec(r.detail)?.[1]));
      for (const { detail } of results) {
        const scanned = /^SCAN (\S+)/.exec(detail)?.[1];
        if (!scanned || derived.has(scanned) || scanned.startsWith("(subquery") || scanned === "CONSTANT") continue;
        // A covering or partial index is read as a range; json_each is a virtual table.
        if (/USING (COVERING )?INDEX|VIRTUAL TABLE/.test(detail)) continue;
        scans.push(`${detail} in: ${sql.replace(/\s+/g, " ").slice(0, 160)}`);
      }
    }
    return scans;
  }

  it("the sweeper, a consumer batch and the intake, on a month of traffic", async () => {
    const now = Date.now();
    const { bindings } = await fill(env.FILLED_DB, now);
    const { db, counter } = countingD1(env.FILLED_DB, { readsOfRaw: true });
    const counted = { ...bindings, DB: db };
    const figures: Record<string, { rowsRead: number; statements: (typeof counter.statements)[number][] }> = {};
    const measure = async (name: string, run: () => Promise<unknown>) => {
      const from = counter.statements.length;
      const read = counter.rowsRead;
      await run();
      figures[name] = { rowsRead: counter.rowsRead - read, statements: counter.statements.slice(from) };
    };

    await measure("sweep", () => sweep(counted as never, now));
    const sentBefore = counted.DELIVERIES.sent.length;
    await measure("intake", async () => {
      const res = await app.request(
        "/events",
        { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered() },
        counted,
      );
      expect(res.status).toBe(202);
    });
    const queued = counted.DELIVERIES.sent
      .slice(sentBefore)
      .flat()
      .map((m) => m.body as DeliveryMessage);
    expect(queued).toHaveLength(CHANNELS);
    await measure("consumer batch", async () => {
      const batch = createMessageBatch<DeliveryMessage>(
        "tyk-webhook-deliveries",
        queued.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, counted as never, ctx);
      await getQueueResult(batch, ctx);
    });

    // A minute later: nothing left to purge or reclaim, the sweeper's steady state.
    await measure("sweep, steady", () => sweep(counted as never, now + 60_000));

    // The figures docs/capacity.md's rows-read table is made from.
    console.log(
      Object.entries(figures)
        .map(([name, f]) => `${name}: ${f.rowsRead} rows read (${f.statements.map((s) => s.rowsRead).join(" + ")})`)
        .join("\n"),
    );
    for (const [name, { statements }] of Object.entries(figures)) {
      for (const s of statements) {
        const what = `${name}: ${s.sql.replace(/\s+/g, " ").slice(0, 120)}`;
        expect(s.rowsRead, what).toBeTypeOf("number");
        // Each row it changed or found may cost a few reads (its key, its index entries; the
        // consumer's write also looks its row up once to check the run is current), and each
        // channel or type hopped one; nothing grows with the 20,000 rows stored.
        expect(s.rowsRead!, what).toBeLessThanOrEqual(8 * Math.max(s.changed ?? 0, s.returned ?? 0) + 5 * CHANNELS + 10);
      }
    }
    // The issue's case: the stats' counts past the retention (5 of 3,610 rows) deleted.
    const countsDelete = figures.sweep!.statements.find((s) => /^delete from "delivery_counts"/.test(s.sql))!;
    expect(countsDelete.changed).toBe(CHANNELS);
    expect(countsDelete.rowsRead).toBeLessThanOrEqual(40);
    // Per run: the first purges a minute's worth (40 events, 40 deliveries, 5 hours of
    // counts) and reclaims 3; then each run reads a few rows per channel.
    expect(figures.sweep!.rowsRead).toBeLessThan(500);
    expect(figures["sweep, steady"]!.rowsRead).toBeLessThanOrEqual(20 * CHANNELS);
    // Per delivery: what it writes, and the few rows each write reads (keys, counts, indexes).
    expect(figures.intake!.rowsRead).toBeLessThanOrEqual(15 * CHANNELS + 20);
    expect(figures["consumer batch"]!.rowsRead).toBeLessThanOrEqual(30 * queued.length);
    expect(await scansOf(env.FILLED_DB, counter.statements)).toEqual([]);
  });
});

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
    const bindings = { ...env, DB: db, DELIVERIES: queue };
    const get = async (path: string) => {
      const res = await app.request(path, { headers: ADMIN }, bindings);
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
    const again = await app.request("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: body1 }, bindings);
    expect(await again.json()).toEqual({ ID: events[1].ID, Deliveries: 2, Duplicate: true });

    // A message sent before the migration names an old id: dropped, nothing sent.
    const old = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries", [
      { id: "old", timestamp: new Date(), attempts: 1, body: { deliveryId: "ccccccccccccccccccccccccccccccc3", generation: 0 } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(old, bindings as never, ctx);
    expect((await getQueueResult(old, ctx)).explicitAcks).toEqual(["old"]);
    // The sweeper sends the waiting delivery again, by its new key.
    const { reclaimed } = await sweep(bindings as never, now + 3600_000);
    expect(reclaimed).toEqual([{ deliveryId: listed[0].ID, channelId: "ch-1", generation: 1 }]);
  });
});

// Last in the file: its channel and events would show in the lists the tests above read.
describe("ids made in one request", () => {
  it("events posted in one millisecond, and their deliveries, list in the order they came", async () => {
    const channel = await createChannel();
    const queue = recordingQueue();
    const post = () =>
      app.request(
        "/events",
        { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered() },
        { ...env, DELIVERIES: queue },
      );
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push((await (await post()).json<{ ID: string }>()).ID);
    expect([...posted].sort()).toEqual(posted);
    const deliveries = queue.sent
      .flat()
      .map((m) => (m.body as DeliveryMessage).deliveryId)
      .filter((id, i, all) => all.indexOf(id) === i);
    const ofChannel = queue.sent
      .flat()
      .filter((m) => (m.body as DeliveryMessage).channelId === channel.ID)
      .map((m) => m.body.deliveryId);
    expect(ofChannel).toHaveLength(5);
    expect([...ofChannel].sort()).toEqual(ofChannel);
    // A delivery's id sorts with its event: the event's time and counter lead it.
    expect(ofChannel.map((id) => id.slice(0, 23))).toEqual(posted.map((id) => id.slice(0, 23)));
    expect(deliveries.length).toBeGreaterThanOrEqual(5);
  });
});

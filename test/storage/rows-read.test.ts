/**
 * What the statements that run on a schedule or per batch read on a filled database: a
 * month of traffic (5 channels, 720 hours of counts each, 20,000 events and deliveries,
 * 300 retrying). Each must read in proportion to what it finds or changes, never to the
 * table: D1 bills rows read, and the Free plan's 5 M a day is spent in minutes otherwise.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../src/db/records";
import { countingD1, recordingQueue } from "../doubles";
import { ADMIN, api, postEvent, runQueue, runSweep, target, uniqueUserRegistered } from "../helpers";

describe("recurring statements read what they find, not the table", () => {
  const HOUR = 3600_000;
  const CHANNELS = 5;

  /** A month of traffic written straight to the filled database, `now` its present. */
  async function fill(db: D1Database, now: number) {
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const queue = recordingQueue();
    const channels: string[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const res = await api("POST", "/portal-api/webhooks", { Name: `Filled ${i}`, URL: target("ok"), Events: ["UserRegistered", "PasswordReset"] }, ADMIN, {
        DB: db,
        DELIVERIES: queue,
      });
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
    return { channels, queue };
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
    const { queue } = await fill(env.FILLED_DB, now);
    const { db, counter } = countingD1(env.FILLED_DB, { readsOfRaw: true });
    const counted = { DB: db, DELIVERIES: queue };
    const figures: Record<string, { rowsRead: number; statements: (typeof counter.statements)[number][] }> = {};
    const measure = async (name: string, run: () => Promise<unknown>) => {
      const from = counter.statements.length;
      const read = counter.rowsRead;
      await run();
      figures[name] = { rowsRead: counter.rowsRead - read, statements: counter.statements.slice(from) };
    };

    await measure("sweep", () => runSweep(counted, now));
    const sentBefore = counted.DELIVERIES.sent.length;
    await measure("intake", async () => {
      const res = await postEvent(uniqueUserRegistered(), {}, counted);
      expect(res.status).toBe(202);
    });
    const queued = counted.DELIVERIES.sent
      .slice(sentBefore)
      .flat()
      .map((m) => m.body as DeliveryMessage);
    expect(queued).toHaveLength(CHANNELS);
    await measure("consumer batch", async () => {
      // The messages intake sent, as they are: consume() would read the generations from env.DB, not this database.
      await runQueue("tyk-webhook-deliveries", queued, counted);
    });

    // A minute later: nothing left to purge or reclaim, the sweeper's steady state.
    await measure("sweep, steady", () => runSweep(counted, now + 60_000));

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

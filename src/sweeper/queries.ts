import { and, eq, inArray, lt, or, type SQLWrapper, sql } from "drizzle-orm";
import { disabledReason, disableLongFailing } from "../channels/health";
import type { Db } from "../db/client";
import { isLive, LIVE_SQL, QUEUED_SQL } from "../db/delivery-state";
import { idFloor } from "../db/ids";
import { channelsWithCounts, channelsWithDeliveries, typesWithEvents } from "../db/partitions";
import type { DeliveryMessage } from "../db/records";
import { channels, deliveries, deliveryCounts, events, eventsStoredLate, isEnabledAndFailing } from "../db/schema";
import { raisedMessages, raiseStatements, webhookDisabled } from "../operational/events";
import { hourOf } from "../stats/counters";

/** The sweeper's reads and writes, with drizzle: it runs once a minute, not per delivery. */

/**
 * Deliveries whose queue message must have been lost: `pending` and long due, or
 * `retrying` and long past their next attempt. Marks them due now, in a new generation
 * (so a copy of the old message that was only late is dropped, not sent twice), and
 * returns the messages to send.
 */
export async function reclaimLostDeliveries(db: Db, now: number, grace: { pendingMs: number; retryingMs: number }, limit: number) {
  // Each reclaim with no attempt since doubles the wait before the next one (up to 64×): a
  // delivery that is only stuck behind a long backlog gets a message that lives long enough
  // to be reached. Counted apart from the generation, which an admin's redeliver raises too.
  const backoff = sql`(1 << min(${deliveries.reclaims}, 6))`;
  const lostAfter = (status: "pending" | "retrying", ms: number) =>
    and(eq(deliveries.status, status), lt(deliveries.nextAttemptAt, now - ms), sql`${deliveries.updatedAt} < ${now} - ${ms} * ${backoff}`);
  const lost = db
    .select({ channelId: deliveries.channelId, id: deliveries.id })
    .from(deliveries)
    // Held deliveries have no queue message to lose: only pending and retrying ones count.
    // The first bound is a range of the live index: a backlog of retries due later (a
    // failing target's) is not read every minute, only what is already overdue.
    .where(
      and(
        isLive(deliveries.status),
        lt(deliveries.nextAttemptAt, now - Math.min(grace.pendingMs, grace.retryingMs)),
        or(lostAfter("pending", grace.pendingMs), lostAfter("retrying", grace.retryingMs)),
      ),
    )
    .orderBy(deliveries.nextAttemptAt)
    .limit(limit);
  return db
    .update(deliveries)
    .set({ nextAttemptAt: now, generation: sql`${deliveries.generation} + 1`, reclaims: sql`${deliveries.reclaims} + 1`, updatedAt: now })
    .where(sql`(${deliveries.channelId}, ${deliveries.id}) in ${lost}`)
    .returning({ deliveryId: deliveries.id, channelId: deliveries.channelId, generation: deliveries.generation });
}

/** Rows purged per run at most: ten deliveries an event on average before the deliveries lag. */
const PURGE_EVENTS = 2000;
const PURGE_DELIVERIES = 20_000;

/**
 * Every minute, in one D1 batch (all or nothing): purges what is older than the
 * retention, disables the channels whose deliveries have all failed for `failingMs`, and
 * raises `Dispatcher.WebhookDisabled` for each, with its deliveries. Disabling and raising
 * in one batch means a failure never leaves a channel disabled without its event: the
 * next sweep finds it still enabled and does both. Returns the channels disabled and the
 * raised deliveries' messages, to be queued.
 */
export async function housekeeping(
  d1: D1Database,
  db: Db,
  now: number,
  retentionMs: number,
  failingMs: number,
): Promise<{ disabledChannels: { id: string; name: string; reason: string }[]; raised: DeliveryMessage[] }> {
  // The channels the batch will disable, read first so their events can join it: the same
  // `now` and condition, so the same channels (the raise holds only for a channel the
  // batch did disable, so one enabled meanwhile raises nothing).
  const due = await db
    .select({ id: channels.id, name: channels.name, failingSince: channels.failingSince })
    .from(channels)
    .where(and(isEnabledAndFailing(channels.enabled, channels.failingSince), lt(channels.failingSince, now - failingMs)));
  const raise = due.map((c) => webhookDisabled(c, disabledReason(c.failingSince!, failingMs), now));
  // Bounded slices of what is past the retention: each run stays short, and a backlog is
  // worked off over a few minutes. Ids are in time order, so "older than" is a range of
  // each type's (each channel's) key: no time index to keep. An event and its deliveries
  // share their time, so they leave together.
  const before = idFloor(now - retentionMs);
  const oldEvents = db
    .select({ type: events.type, id: events.id })
    .from(events)
    .where(and(inArray(events.type, typesWithEvents), lt(events.id, before)))
    .limit(PURGE_EVENTS);
  const oldDeliveries = db
    .select({ channelId: deliveries.channelId, id: deliveries.id })
    .from(deliveries)
    .where(and(inArray(deliveries.channelId, channelsWithDeliveries), lt(deliveries.id, before)))
    .limit(PURGE_DELIVERIES);
  const writes = [
    disableLongFailing(db, now, failingMs),
    db.delete(deliveries).where(sql`(${deliveries.channelId}, ${deliveries.id}) in ${oldDeliveries}`),
    db.delete(events).where(sql`(${events.type}, ${events.id}) in ${oldEvents}`),
    // The notes of events stored late, past the same retention: a range of their key.
    db.delete(eventsStoredLate).where(lt(eventsStoredLate.eventId, before)),
    // Each channel's range of the key below the hour, found by hopping along the channels:
    // `hour` alone has no index, and a delete by it read every row of the table each minute.
    db.delete(deliveryCounts).where(and(inArray(deliveryCounts.channelId, channelsWithCounts), lt(deliveryCounts.hour, hourOf(now - retentionMs)))),
  ].map((query) => statement(d1, query));
  // The raise's statements are D1's own, so the drizzle ones join them as plain statements.
  const results = await d1.batch([...writes, ...(raise.length ? raiseStatements(d1, raise, now) : [])]);
  const disabled = (results[0]!.results ?? []) as { id: string; name: string; disabled_reason: string | null }[];
  return {
    disabledChannels: disabled.map((c) => ({ id: c.id, name: c.name, reason: c.disabled_reason ?? "" })),
    raised: raise.length ? await raisedMessages(d1, results, now) : [],
  };
}

/** A drizzle query as a plain D1 statement, to share a batch with statements built by hand. */
function statement(d1: D1Database, query: SQLWrapper & { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql: text, params } = query.toSQL();
  return d1.prepare(text).bind(...params);
}

/**
 * The safety net of ordered lanes (src/flow/lanes.ts): a lane whose head has no due time
 * (waiting as if behind another, after a wake-up and its due time were both lost, say
 * an admin change that ended the head outside the consumer) gets one, so the reclaim
 * above sends it after its grace. Reads the live deliveries of ordered channels only
 * (the `deliveries_lane` index). Returns how many lanes it moved.
 */
export async function dueStrandedLaneHeads(db: Db, now: number): Promise<number> {
  const moved = await db.all<{ id: string }>(sql`
    update deliveries set next_attempt_at = ${now}
    where (channel_id, id) in (select channel_id, min(id) from deliveries
                               where lane is not null and status in ${sql.raw(LIVE_SQL)} group by channel_id, lane)
      and next_attempt_at is null and status in ${sql.raw(QUEUED_SQL)}
    returning id`);
  return moved.length;
}

import { and, asc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { idFloor, sqlDeliveryId, sqlSameMillisecond } from "../db/ids";
import { sqlLane } from "../db/lanes";
import type { DeliveryMessage } from "../db/records";
import { events } from "../db/schema";
import { enqueueCommitted, messageFor } from "../queue/enqueue";
import { compileFilter, type Predicate } from "../routing/filter";

/*
 * Replay (contract: `POST /portal-api/webhooks/{id}/replay`): deliveries to one channel
 * for the stored events of a window that it would get now (a type it subscribes to, its
 * filter passes) and that it has no delivery for: events that came while it was disabled,
 * before it existed, or before its filter changed.
 *
 * In slices, oldest first. A slice is the next SLICE_EVENTS events of the channel's types
 * after a position (an event id), merged across types from each type's key range; the
 * filter is judged in JavaScript, as intake judges it (src/routing/filter.ts), on bodies
 * read at most SLICE_BYTES at a time; one INSERT … SELECT creates the slice's deliveries.
 * That insert itself checks, per event, that the channel has no delivery for it (a range
 * of the channel's key: the event's millisecond, src/db/ids.ts), that the channel is still
 * enabled and subscribed, and that its filter is still the one judged: one statement is
 * atomic in D1, and intake creates an event's deliveries in the same transaction as the
 * event, so a replay racing intake, or another replay, never makes a second delivery.
 *
 * One request does at most REQUEST_EVENTS events (Workers' limits: 1,000 subrequests on
 * the Paid plan, each slice costs 2–3 D1 statements and ≤ 10 sendBatch calls); a longer
 * window answers a `Cursor` to post again with the same body. Measured in docs/capacity.md
 * ("Replay").
 */

/** Events read per slice (their ids and sizes): a JSON parameter of ≈ 60 KB at most. */
export const SLICE_EVENTS = 1000;
/** Bodies read per slice when the channel has a filter, in bytes (at least one event). */
export const SLICE_BYTES = 4 * 1024 * 1024;
/**
 * Events one request goes through, then it answers a cursor: a replay's slice costs 2–3 D1
 * statements and up to 10 sendBatch calls (≤ 260 subrequests a request); a dry run's only
 * its D1 reads (≤ 300).
 */
export const REQUEST_EVENTS = 20_000;
export const DRY_RUN_EVENTS = 100_000;

/** What a replay reads: a channel as stored now, and the window. */
export interface ReplayChannel {
  id: string;
  /** The subscribed types (narrowed to `EventType` when the request names one). */
  types: string[];
  /** The filter as stored (JSON), null for none, and its version. */
  filter: string | null;
  filterVersion: number;
}

export interface ReplayWindow {
  /** Received at or after, unix ms. */
  since: number;
  /** Received before, unix ms. */
  until: number;
  /** Only this event, when set (the event page's "Send to…"). */
  eventId?: string;
  /** Start after this event id (a cursor's position). */
  after?: string;
}

export interface ReplayResult {
  /** Deliveries created (or, in a dry run, that would be). */
  count: number;
  /** Where to go on from (the last event id read) when the request stopped before the window's end. */
  next?: string;
}

type Slice = { id: string; type: string; size: number }[];

/** The next events of the channel's types after `after`, oldest first, with their sizes. */
function nextSlice(db: Db, channel: ReplayChannel, window: ReplayWindow, after: string, limit = SLICE_EVENTS) {
  const next = alias(events, "next");
  const types = sql`(select value as v from json_each(${JSON.stringify(channel.types)}))`;
  const inRange = (table: typeof events | typeof next) =>
    and(gt(table.id, after), lt(table.id, idFloor(window.until)), window.eventId ? eq(table.id, window.eventId) : undefined);
  const firstOfType = db
    .select({ id: next.id })
    .from(next)
    .where(and(sql`${next.type} = k.v`, inRange(next)))
    .orderBy(asc(next.id))
    .limit(limit);
  return (
    db
      .select({ id: events.id, type: events.type, size: sql<number>`length(cast(${events.body} as blob))` })
      // A cross join keeps the types the outer loop: each one's oldest, then their rows.
      .from(sql`${types} as k`)
      .crossJoin(events)
      .where(and(sql`${events.type} = k.v`, inArray(events.id, firstOfType)))
      .orderBy(asc(events.id))
      .limit(limit)
  );
}

/** The slice's first events whose bodies add up to at most SLICE_BYTES (at least one). */
function withinBytes(slice: Slice): Slice {
  let bytes = 0;
  const taken: Slice = [];
  for (const row of slice) {
    bytes += row.size;
    if (taken.length && bytes > SLICE_BYTES) break;
    taken.push(row);
  }
  return taken;
}

/** The events of the slice that pass the filter, judged on their bodies. */
async function passing(db: Db, slice: Slice, test: Predicate): Promise<Slice> {
  const bodies = await db
    .select({ id: events.id, body: events.body })
    .from(events)
    .where(sql`(${events.type}, ${events.id}) in (select value->>0, value->>1 from json_each(${JSON.stringify(slice.map((e) => [e.type, e.id]))}))`);
  const pass = new Set(
    bodies
      .filter((e) => {
        try {
          return test(JSON.parse(e.body));
        } catch {
          return false;
        }
      })
      .map((e) => e.id),
  );
  return slice.filter((e) => pass.has(e.id));
}

/**
 * The events of `pairs` that the channel has no delivery for, and would get now (enabled,
 * subscribed, the filter version judged): their deliveries created, or in a dry run counted.
 * One statement, so the "no delivery yet" check and the insert are one atomic step.
 */
function createDeliveries(db: Db, channel: ReplayChannel, pairs: Slice, now: number, dryRun: boolean) {
  const missing = sql`from json_each(${JSON.stringify(pairs.map((e) => [e.type, e.id]))}) as p
    join events as e on e.type = p.value->>0 and e.id = p.value->>1
    join channels as c on c.id = ${channel.id}
    where c.enabled = 1 and c.filter_version = ${channel.filterVersion}
      and exists (select 1 from channel_events as ce where ce.channel_id = c.id and ce.event_type = e.type)
      and not exists (select 1 from deliveries as d where d.channel_id = c.id and ${sql.raw(sqlSameMillisecond("d.id", "e.id"))} and d.event_id = e.id)`;
  if (dryRun) return db.all<{ n: number }>(sql`select count(*) as n ${missing}`).then(([row]) => ({ created: [] as Created[], count: row?.n ?? 0 }));
  // A delivery dated as its event (its id and created_at), so it sorts, and counts in the
  // stats, with the event; due now. Held when the channel is paused.
  return db
    .all<Created>(
      sql`insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at, lane)
        select ${sql.raw(sqlDeliveryId("e.id"))}, e.id, c.id, e.type, case when c.paused then 'held' else 'pending' end, ${now}, e.received_at, ${now},
               ${sql.raw(sqlLane("c", "e.body"))}
        ${missing}
        order by e.id
        returning channel_id as channelId, id, generation, status`,
    )
    .then((created) => ({ created, count: created.length }));
}

type Created = { channelId: string; id: string; generation: number; status: string };

/**
 * Replays the window to the channel, slice by slice, until the window ends or this
 * request's REQUEST_EVENTS are spent. Created deliveries are queued as each slice commits,
 * in the order their events were received (held ones wait for the channel's resume).
 */
export async function replay(
  db: Db,
  queue: Queue<DeliveryMessage>,
  channel: ReplayChannel,
  window: ReplayWindow,
  dryRun: boolean,
  /** The slice and request sizes (tests make them small). */
  sizes = { sliceEvents: SLICE_EVENTS, requestEvents: dryRun ? DRY_RUN_EVENTS : REQUEST_EVENTS },
): Promise<ReplayResult> {
  const test = channel.filter === null ? null : compileFilter(JSON.parse(channel.filter));
  let after = window.after ?? idFloor(window.since);
  let count = 0;
  let read = 0;
  const now = Date.now();
  while (read < sizes.requestEvents) {
    let slice: Slice = await nextSlice(db, channel, window, after, sizes.sliceEvents);
    if (!slice.length) return { count };
    if (test) slice = withinBytes(slice);
    const last = slice.at(-1)!.id;
    read += slice.length;
    const judged = test ? await passing(db, slice, test) : slice;
    if (judged.length) {
      const { created, count: n } = await createDeliveries(db, channel, judged, now, dryRun);
      count += n;
      const toQueue = created.filter((d) => d.status !== "held").map(messageFor);
      if (toQueue.length) await enqueueCommitted(queue, toQueue, "replayed");
    }
    after = last;
  }
  // More may follow: the caller goes on from the last event read.
  const more = await nextSlice(db, channel, window, after, 1);
  return more.length ? { count, next: after } : { count };
}

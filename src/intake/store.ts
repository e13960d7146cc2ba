import { Refused } from "../core/errors";
import { sqlDeliveryId, sqlSameMillisecond } from "../db/ids";
import { sqlLane } from "../db/lanes";
import { DELIVERY_CHANNELS } from "../db/partitions";
import { judgeByFilters, learnFilters } from "../routing/filter-cache";

export const DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface NewEvent {
  /** A UUIDv7 of `receivedAt` (src/db/ids.ts). */
  id: string;
  type: string;
  body: string;
  /** SHA-256 of the body, hex. */
  bodyHash: string;
  idempotencyKey: string | null;
  receivedAt: number;
}

/** A delivery's key: its channel and its id. */
export type DeliveryKey = { channelId: string; id: string };

export type Recorded =
  /** `deliveries`: the ones to queue now; `held`: how many wait for their channel's resume. */
  { duplicate: false; deliveries: DeliveryKey[]; held: number } | { duplicate: true; eventId: string; deliveries: number };

/*
 * The intake's one D1 batch: one round trip and one transaction, so the duplicate check
 * and the inserts cannot interleave with another request's. Plain prepared SQL: this runs
 * for every event, and the CPU profiles showed the query builder taking about a fifth of
 * the request's own CPU.
 */

// The event, unless an event with the same body or Idempotency-Key came within the window.
const INSERT_EVENT = `
  insert into events (id, type, body, received_at, body_hash, idempotency_key)
  select ?1, ?2, ?3, ?4, ?5, ?6
  where not exists (
    select 1 from events where (body_hash = ?5 or idempotency_key = ?6) and received_at > ?4 - ?7)`;

// One delivery per enabled subscribed channel whose filter passes, pending (held if the
// channel is paused); none if the event was a duplicate. The channel lookup runs inside
// the insert, so its cost does not grow with the channels. ?4: the "<id>:<version>" keys
// of the filtered channels the event passed, judged by the isolate's filter cache; a
// filtered channel counts only if its version is the one judged (an IN list: SQLite
// builds it an index, so the check stays cheap with hundreds of filtered channels).
// A delivery's id has its event's time, so an event's deliveries are found from the
// event's id (src/db/ids.ts), with no index on event_id.
const insertDeliveries = (which: string) => `
  insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at, lane)
  select ${sqlDeliveryId("?1")}, ?1, ce.channel_id, ce.event_type, case when c.paused then 'held' else 'pending' end, ?3, ?3, ?3,
         ${sqlLane("c", "(select body from events where type = ?2 and id = ?1)")}
  from channel_events as ce join channels as c on c.id = ce.channel_id
  where ce.event_type = ?2 and c.enabled = 1 and exists (select 1 from events where type = ?2 and id = ?1)
    and ${which}
  returning channel_id as channelId, id, status = 'held' as held`;
const PASSED = "c.id || ':' || c.filter_version in (select value from json_each(?4))";
// When the event may be stored already (a try after one that failed, which may have
// committed; a storing message Queues delivered twice), no channel gets a second delivery
// of it: one seek into the channel's key at the event's millisecond. A first try at intake
// cannot meet its own event (its id is new), so the hot path goes without.
const NOT_YET = `not exists (select 1 from deliveries as d where d.channel_id = c.id and ${sqlSameMillisecond("d.id", "?1")} and d.event_id = ?1)`;
const INSERT_DELIVERIES = insertDeliveries(`(c.filter is null or ${PASSED})`);
const INSERT_DELIVERIES_AGAIN = insertDeliveries(`(c.filter is null or ${PASSED}) and ${NOT_YET}`);
// The deliveries of filtered channels judged after a read (?4: those that passed).
const INSERT_LATE_DELIVERIES = insertDeliveries(`c.filter is not null and ${PASSED}`);
const INSERT_LATE_DELIVERIES_AGAIN = insertDeliveries(`c.filter is not null and ${PASSED} and ${NOT_YET}`);
// Again: every delivery the event has, this try's and an earlier one's, so those an
// earlier try committed but never queued are queued now (a second message for one is a
// copy the consumer drops once the delivery has moved on).
const OWN_DELIVERIES = `
  select channel_id as channelId, id, status = 'held' as held from deliveries
  where channel_id in ${DELIVERY_CHANNELS} and ${sqlSameMillisecond("id", "?1")} and event_id = ?1 and status in ('pending', 'held')`;

// What the intake reads back, in one statement (each statement of a batch costs the
// Workers side a result set to process):
// - the earlier event this one duplicates, if any, with its number of deliveries, and
//   whether its Idempotency-Key came within the window with another body (then the
//   insert above did nothing either, so refusing it stores nothing);
// - else the filtered channels of this event's type whose filter version the cache did
//   not know (?7: every "<id>:<version>" it knows for the type), judged after a read.
const READ_BACK = `
  select * from (
    select 'original' as kind, e.id,
           (select count(*) from deliveries as d
            where d.channel_id in ${DELIVERY_CHANNELS} and ${sqlSameMillisecond("d.id", "e.id")} and d.event_id = e.id) as deliveries,
           null as filter, null as version,
           exists (select 1 from events as keyed where keyed.idempotency_key = ?3 and keyed.body_hash <> ?2 and keyed.received_at > ?4 - ?5) as conflict
    from events as e
    where (e.body_hash = ?2 or e.idempotency_key = ?3) and e.received_at > ?4 - ?5 and e.id <> ?1
    order by e.received_at
    limit 1)
  union all
  select 'unknown', c.id, null, c.filter, c.filter_version, null
  from channel_events as ce join channels as c on c.id = ce.channel_id
  where ce.event_type = ?6 and c.enabled = 1 and c.filter is not null and exists (select 1 from events where type = ?6 and id = ?1)
    and c.id || ':' || c.filter_version not in (select value from json_each(?7))`;

// An event accepted while D1 was down, noted once it is stored (not if it turned out a
// duplicate): the stats count them. Keyed by the event's id, so a second storing is a no-op.
const NOTE_STORED_LATE = `
  insert into events_stored_late (event_id, type, received_at, stored_at)
  select ?1, ?2, ?3, ?4 where exists (select 1 from events where type = ?2 and id = ?1)
  on conflict do nothing`;

type Row = {
  id: string;
  channelId?: string;
  kind?: "original" | "unknown";
  deliveries?: number;
  held?: number;
  filter?: string;
  version?: number;
  conflict?: number;
};

/**
 * Stores the event and its deliveries, or finds the event it duplicates: one round trip.
 * `again`: the event may have been stored already under its id (an earlier try whose
 * answer was lost, or a copy of a storing message); then nothing is stored twice, and
 * the answer names every delivery the event has. Safe to call any number of times.
 * `storedLateAt`: the event was accepted during a D1 outage and is stored only now (ms);
 * it is noted for the stats (`events_stored_late`, migration 0014) in the same batch.
 * Only when a channel's filter changed since this isolate last read it does the event
 * take a second look (a read and a write), for that channel alone.
 *
 * Throws `Refused` when the Idempotency-Key was used within the window for another body:
 * a key names one request, and the IETF draft says to answer 422, not the other request's
 * result ("Error Scenarios" in
 * https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-idempotency-key-header).
 */
export async function recordEvent(
  d1: D1Database,
  event: NewEvent,
  parsed: unknown,
  options: { again?: boolean; storedLateAt?: number } = {},
): Promise<Recorded> {
  const { id, type, body, bodyHash, idempotencyKey, receivedAt } = event;
  const { again = false } = options;
  const { matched, known } = judgeByFilters(parsed, type);
  const [, created, readBack, ...more] = await d1.batch<Row>([
    d1.prepare(INSERT_EVENT).bind(id, type, body, receivedAt, bodyHash, idempotencyKey, DEDUPE_WINDOW_MS),
    d1.prepare(again ? INSERT_DELIVERIES_AGAIN : INSERT_DELIVERIES).bind(id, type, receivedAt, JSON.stringify(matched)),
    d1.prepare(READ_BACK).bind(id, bodyHash, idempotencyKey, receivedAt, DEDUPE_WINDOW_MS, type, JSON.stringify(known)),
    ...(again ? [d1.prepare(OWN_DELIVERIES).bind(id)] : []),
    ...(options.storedLateAt ? [d1.prepare(NOTE_STORED_LATE).bind(id, type, receivedAt, options.storedLateAt)] : []),
  ]);
  const original = readBack!.results.find((r) => r.kind === "original");
  if (original?.conflict) throw new Refused("Idempotency-Key", "already used for another body");
  if (original) return { duplicate: true, eventId: original.id, deliveries: original.deliveries! };
  const rows = [...(again ? more[0]! : created!).results];
  const unjudged = readBack!.results.filter((r) => r.kind === "unknown") as { id: string; filter: string; version: number }[];
  if (unjudged.length) {
    const late = learnFilters(unjudged, parsed, type);
    const statement = again ? INSERT_LATE_DELIVERIES_AGAIN : INSERT_LATE_DELIVERIES;
    if (late.length) rows.push(...(await d1.prepare(statement).bind(id, type, receivedAt, JSON.stringify(late)).all<Row>()).results);
  }
  const toQueue = rows.filter((d) => !d.held).map((d) => ({ channelId: d.channelId!, id: d.id }));
  return { duplicate: false, deliveries: toQueue, held: rows.length - toQueue.length };
}

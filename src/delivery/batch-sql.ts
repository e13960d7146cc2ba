import { sqlRunIsCurrent } from "../db/current-run";
import { LIVE_SQL, QUEUED_SQL } from "../db/delivery-state";
import { sqlLaneHead } from "../db/lanes";
import type { BatchChannel, BatchData, BatchDelivery, DeliveryChange, DeliveryMessage, OperationalEvent } from "../db/records";
import { raisedMessages, raiseStatements } from "../operational/events";
import type { CountChanges } from "../stats/counters";

/*
 * The consumer's SQL: its one read and its one write per batch, and the dead-letter
 * queue's. Prepared D1 statements rather than drizzle, because they run for every batch
 * and the CPU profiles showed the query builder costing most of the consumer's own CPU
 * (see "How it is built" in the README for the rule).
 */

/*
 * The consumer's read and write are prepared SQL: they run for every batch, and building
 * them with the query builder would be most of the consumer's own CPU. Their rows travel
 * as one JSON parameter unpacked with json_each: one statement for any number of rows,
 * clear of D1's 100-parameter limit.
 */

// Each message's delivery, with its event's body, its channel and the channel's headers (a
// JSON array, in the order they were added); ?1 is the batch's messages as JSON, each
// naming its delivery's key (channel and id): one primary-key lookup per message.
const LOAD_BATCH = `
  select d.id, d.event_id as eventId, d.event_type as eventType, d.channel_id as channelId, d.status, d.attempt_count as attemptCount,
         d.retry_base as retryBase, d.generation, d.next_attempt_at as nextAttemptAt,
         d.last_status_code as lastStatusCode, d.last_error as lastError, d.created_at as createdAt, e.body, d.lane,
         case when d.lane is not null then ${sqlLaneHead("d.channel_id", "d.lane")} end as laneHead,
         c.id is not null as channelExists, c.name, c.url, c.paused, c.rate_limit as rateLimit, c.format, c.transform, c.auth, c.method, c.timeout_seconds as timeoutSeconds, c.enabled,
         c.disabled_reason as disabledReason,
         exists (select 1 from channel_events as ce where ce.channel_id = d.channel_id and ce.event_type = d.event_type) as subscribed,
         c.secret, c.previous_secret as previousSecret,
         c.previous_secret_expires_at as previousSecretExpiresAt, c.failing_since as failingSince,
         (select json_group_array(json_object('name', h.name, 'value', h.value))
            from (select name, value from channel_headers where channel_id = c.id order by created_at) as h) as headers
  from json_each(?1) as m
  join deliveries as d on d.channel_id = m.value->>'channelId' and d.id = m.value->>'deliveryId'
  left join events as e on e.type = d.event_type and e.id = d.event_id
  left join channels as c on c.id = d.channel_id`;

type BatchRow = Omit<BatchDelivery, "subscribed"> &
  Omit<BatchChannel, "id" | "enabled" | "headers" | "paused"> & { channelExists: number; enabled: number; headers: string; subscribed: number; paused: number };

/** Everything a consumer batch needs: one statement, one D1 round trip. */
export async function loadBatch(d1: D1Database, messages: DeliveryMessage[]): Promise<BatchData> {
  const { results } = await d1.prepare(LOAD_BATCH).bind(JSON.stringify(messages)).all<BatchRow>();
  const data: BatchData = { deliveries: new Map(), channels: new Map() };
  for (const r of results) {
    // The row holds both records; each is picked out by name, its flags made booleans.
    data.deliveries.set(r.id, {
      id: r.id,
      eventId: r.eventId,
      eventType: r.eventType,
      channelId: r.channelId,
      status: r.status,
      attemptCount: r.attemptCount,
      retryBase: r.retryBase,
      generation: r.generation,
      nextAttemptAt: r.nextAttemptAt,
      lastStatusCode: r.lastStatusCode,
      lastError: r.lastError,
      createdAt: r.createdAt,
      body: r.body,
      subscribed: r.subscribed === 1,
      lane: r.lane,
      laneHead: r.laneHead,
    });
    if (!r.channelExists || data.channels.has(r.channelId)) continue;
    data.channels.set(r.channelId, {
      id: r.channelId,
      name: r.name,
      url: r.url,
      method: r.method,
      timeoutSeconds: r.timeoutSeconds,
      enabled: r.enabled === 1,
      disabledReason: r.disabledReason,
      secret: r.secret,
      previousSecret: r.previousSecret,
      previousSecretExpiresAt: r.previousSecretExpiresAt,
      failingSince: r.failingSince,
      headers: JSON.parse(r.headers),
      paused: r.paused === 1,
      rateLimit: r.rateLimit,
      format: r.format,
      transform: r.transform,
      auth: r.auth,
    });
  }
  return data;
}

/** Attempts kept per delivery: an admin's redelivers could otherwise grow a row past D1's limit. */
export const MAX_KEPT_ATTEMPTS = 100;

export interface BatchWrites {
  changes: DeliveryChange[];
  /** Channels whose failure streak ends (a success) or starts (only failures). */
  channelHealth: { id: string; ok: boolean }[];
  /** Channels to disable (410 Gone), with the reason. */
  disable: { id: string; reason: string }[];
  /** Operational events this batch raises (deliveries failed, channels disabled). */
  raise: OperationalEvent[];
  /** What the batch changes in the stats' counts. */
  counts: CountChanges;
  /** Deliveries that wait behind their lane's head: they keep no due time (src/flow/lanes.ts). */
  parks: { channelId: string; id: string; generation: number }[];
  /** Lanes whose delivery ended in this batch: their next one is due now. */
  laneEnds: { channelId: string; lane: string }[];
}

// Each change holds only if its delivery is still in the run it was decided for
// (src/db/current-run.ts); a stale one keeps just its attempt. Its attempt is numbered
// here, from the row, so a stale attempt and the newer run's never share a number; and a
// stale attempt moves retry_base with attempt_count, so the newer run keeps its schedule.
//
// Idempotent, so a batch whose commit D1 reported as failed ("Network connection lost") can
// be written again: the rest sets values, not increments, and an attempt is `fresh` unless
// it is the row's last one already (the same start and duration), which is what a write
// that committed and then reported failure left. Each row's `current` and `fresh` are
// worked out once, in the subquery, from one lookup of the row by its key.
const RECORD_CHANGES = `
  update deliveries set
    status = iif(c.current, c.status, deliveries.status),
    attempt_count = deliveries.attempt_count + c.fresh,
    retry_base = deliveries.retry_base + (c.fresh and not c.current),
    reclaims = iif(c.current, 0, deliveries.reclaims),
    attempts = iif(c.fresh,
      json_insert(
        iif(json_array_length(deliveries.attempts) >= ${MAX_KEPT_ATTEMPTS}, json_remove(deliveries.attempts, '$[0]'), deliveries.attempts),
        '$[#]', json_set(c.attempt, '$.attempt', deliveries.attempt_count + 1)),
      deliveries.attempts),
    next_attempt_at = iif(c.current, c.nextAttemptAt, deliveries.next_attempt_at),
    last_status_code = iif(c.current, c.lastStatusCode, deliveries.last_status_code),
    last_error = iif(c.current, c.lastError, deliveries.last_error),
    updated_at = iif(c.current, ?2, deliveries.updated_at)
  from (
    select u.value->>'channelId' as channelId, u.value->>'id' as id, u.value->>'status' as status,
           u.value->'attempt' as attempt, u.value->>'nextAttemptAt' as nextAttemptAt,
           u.value->>'lastStatusCode' as lastStatusCode, u.value->>'lastError' as lastError,
           ${sqlRunIsCurrent("u", "u.value")} as current,
           json_type(u.value, '$.attempt') is not null
             and coalesce(u.last->>'startedAt' is not u.value->>'$.attempt.startedAt' or u.last->>'durationMs' is not u.value->>'$.attempt.durationMs', 1) as fresh
    from (
      select m.value, row.generation, row.status, row.channel_id, row.attempts->'$[#-1]' as last
      from json_each(?1) as m
      join deliveries as row on row.channel_id = m.value->>'channelId' and row.id = m.value->>'id') as u) as c
  where deliveries.channel_id = c.channelId and deliveries.id = c.id and (c.current or c.fresh)
  returning deliveries.id, deliveries.generation, deliveries.status`;

// A delivery that waits behind its lane's head has no queue message, so no due time: the
// sweeper then knows it from a lost one. Unless it has become the head meanwhile (the head
// ended in a batch that committed first): then it keeps its due time, and is sent.
const PARK = `
  update deliveries set next_attempt_at = null
  from json_each(?1) as p
  where deliveries.channel_id = p.value->>'channelId' and deliveries.id = p.value->>'id'
    and deliveries.generation = p.value->>'generation' and deliveries.status in ${QUEUED_SQL}
    and deliveries.id <> ${sqlLaneHead("deliveries.channel_id", "deliveries.lane")}`;

// The next delivery of each lane whose delivery ended is due now, if it was waiting: the
// sequencer's wake-up is then only the fast way; if it is lost, the sweeper sends it.
export const NEXT_IN_LANE = `
  update deliveries set next_attempt_at = ?2
  from (select l.channel_id, min(l.id) as id
        from json_each(?1) as e
        join deliveries as l on l.channel_id = e.value->>'channelId' and l.lane = e.value->>'lane' and l.status in ${LIVE_SQL}
        group by l.channel_id, l.lane) as head
  where deliveries.channel_id = head.channel_id and deliveries.id = head.id
    and deliveries.next_attempt_at is null and deliveries.status in ${QUEUED_SQL}`;

// A channel disabled for a 410: everything still waiting ends with it, at once, as when an
// admin disables it (deliveries waiting behind a lane's head have no message that would
// find it disabled). After the changes, so the batch's own are judged first.
const CANCEL_LIVE = `
  update deliveries set status = 'cancelled', last_error = ?2, next_attempt_at = null, updated_at = ?3
  where channel_id = ?1 and status in ${LIVE_SQL}`;
const COUNT_CANCELLED = `
  insert into delivery_counts (channel_id, hour, cancelled, latency)
  select channel_id, created_at - created_at % 3600000, count(*), '[]'
  from deliveries where channel_id = ?1 and status in ${LIVE_SQL}
  group by 2
  on conflict do update set cancelled = delivery_counts.cancelled + excluded.cancelled`;

/**
 * Every attempt and status change of a consumer batch, and the operational events it
 * raises, in one D1 round trip. Returns the queue messages of the deliveries raised, and
 * the ids of the changes applied (the others came for an older run, or an ended one).
 * Plain D1 statements: drizzle's D1 batch cannot bind parameters of raw SQL.
 *
 * The changes are written last: the counts and the raised events that depend on a change
 * check, before it, that its run is still current (the batch is one transaction, so they
 * all see the same rows).
 */
export async function recordBatch(d1: D1Database, writes: BatchWrites, now: number): Promise<{ raised: DeliveryMessage[]; applied: Set<string> }> {
  const statements: D1PreparedStatement[] = [];
  if (writes.counts.size) statements.push(writes.counts.statement(d1));
  if (writes.channelHealth.length) {
    statements.push(
      d1
        .prepare(
          // Checked again here: another batch may have changed the channel meanwhile.
          `update channels set
             failing_since = case when h.value->>'ok' then null else ?2 end
           from json_each(?1) as h
           where channels.id = h.value->>'id'
             and (case when h.value->>'ok' then failing_since is not null else failing_since is null end)`,
        )
        .bind(JSON.stringify(writes.channelHealth), now),
    );
  }
  for (const { id, reason } of writes.disable) {
    statements.push(d1.prepare("update channels set enabled = 0, disabled_reason = ?2, updated_at = ?3 where id = ?1 and enabled = 1").bind(id, reason, now));
  }
  const raisedAt = writes.raise.length ? statements.push(...raiseStatements(d1, writes.raise, now)) - 1 : -1;
  const changesAt = writes.changes.length ? statements.push(d1.prepare(RECORD_CHANGES).bind(JSON.stringify(writes.changes), now)) - 1 : -1;
  if (writes.laneEnds.length) statements.push(d1.prepare(NEXT_IN_LANE).bind(JSON.stringify(writes.laneEnds), now));
  if (writes.parks.length) statements.push(d1.prepare(PARK).bind(JSON.stringify(writes.parks)));
  for (const { id, reason } of writes.disable) {
    statements.push(d1.prepare(COUNT_CANCELLED).bind(id), d1.prepare(CANCEL_LIVE).bind(id, `webhook disabled: ${reason}`, now));
  }
  if (!statements.length) return { raised: [], applied: new Set() };
  const results = await d1.batch(statements);
  // A change applied if its row now has the generation and status decided (a stale one kept the row's).
  const decided = new Map(writes.changes.map((c) => [c.id, c]));
  const rows = (changesAt >= 0 ? results[changesAt]!.results : []) as { id: string; generation: number; status: string }[];
  const applied = new Set(rows.filter((r) => r.generation === decided.get(r.id)?.generation && r.status === decided.get(r.id)?.status).map((r) => r.id));
  return { raised: raisedAt >= 0 ? await raisedMessages(d1, results.slice(0, raisedAt + 1), now) : [], applied };
}

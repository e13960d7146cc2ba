import type { Env } from "../core/env";
import { errorText, log } from "../core/log";
import { channelNames } from "../db/channel-names";
import { database } from "../db/client";
import { QUEUED_SQL } from "../db/delivery-state";
import type { DeliveryMessage, OperationalEvent } from "../db/records";
import { deliveryFailed, raisedMessages, raiseStatements } from "../operational/events";
import { isOperational } from "../portal/catalog";
import { enqueueCommitted } from "../queue/enqueue";
import { CountChanges } from "../stats/counters";
import { NEXT_IN_LANE } from "./batch-sql";
import { CRASH_RETRY_SECONDS } from "./decide";

/*
 * The dead-letter queue's consumer: a message that crashed the consumer too often ends its
 * delivery `failed` (if an attempt of its run was recorded), raises
 * Dispatcher.DeliveryFailed, and lets an ordered lane go on. Two D1 round trips: it runs
 * only for what the main consumer could not handle.
 */

/** The dead-letter queue: messages that crashed the consumer too often end as `failed`. */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const messages = batch.messages.map((m) => m.body).filter((body) => Boolean(body?.deliveryId));
  const db = database(env.DB);
  try {
    const now = Date.now();
    const ended = await failDeliveries(env.DB, messages, "dead-lettered: the consumer failed on it too many times", now);
    const counts = new CountChanges();
    for (const d of ended) counts.ended(d.channelId, d.createdAt, "failed");
    const failed = ended.filter((d) => !isOperational(d.eventType));
    const names = await channelNames(db, [...new Set(failed.map((d) => d.channelId))]);
    const raise = failed.map((d) => deliveryFailed({ ...d, channelName: names.get(d.channelId) ?? null }, now));
    // An ordered lane goes on with its next delivery (src/flow/lanes.ts).
    const laneEnds = ended.flatMap((d) => (d.lane === null ? [] : [{ channelId: d.channelId, lane: d.lane }]));
    const first = [...(counts.size ? [counts.statement(env.DB)] : []), ...(laneEnds.length ? [nextInLane(env.DB, laneEnds, now)] : [])];
    const raised = await raiseEvents(env.DB, raise, now, first);
    log.warn("dead-lettered", { deliveries: messages.length });
    batch.ackAll();
    await enqueueCommitted(env.DELIVERIES, raised, "operational events");
  } catch (err) {
    log.error("dead-letter consumer could not record", { error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
  }
}

/**
 * Marks dead-lettered deliveries failed, unless they already reached an end, the message
 * was of an older generation (a newer message is looking after the delivery), or no
 * attempt of the current run was ever recorded: a result that never reached D1 is not a
 * failure, and such a delivery stays live for the sweeper to send again.
 */
async function failDeliveries(d1: D1Database, messages: DeliveryMessage[], reason: string, now: number) {
  const { results } = await d1
    .prepare(
      `update deliveries set status = 'failed', last_error = ?2, next_attempt_at = null, updated_at = ?3
       from json_each(?1) as m
       where deliveries.channel_id = m.value->>'channelId' and deliveries.id = m.value->>'deliveryId'
         and deliveries.generation = coalesce(m.value->>'generation', 0)
         and deliveries.status in ${QUEUED_SQL}
         and deliveries.attempt_count > deliveries.retry_base
       returning deliveries.id as deliveryId, channel_id as channelId, event_id as eventId, event_type as eventType,
                 attempt_count as attempts, last_status_code as lastStatusCode, last_error as lastError, created_at as createdAt, lane`,
    )
    .bind(JSON.stringify(messages), reason, now)
    .all<{
      deliveryId: string;
      channelId: string;
      eventId: string;
      eventType: string;
      attempts: number;
      lastStatusCode: number | null;
      lastError: string;
      createdAt: number;
      lane: string | null;
    }>();
  return results;
}

/** The statement that makes due the next delivery of each lane whose delivery ended (NEXT_IN_LANE). */
const nextInLane = (d1: D1Database, laneEnds: { channelId: string; lane: string }[], now: number) =>
  d1.prepare(NEXT_IN_LANE).bind(JSON.stringify(laneEnds), now);

/**
 * Stores operational events and their deliveries, after any `first` statements, in one
 * round trip; returns the messages to queue.
 */
async function raiseEvents(d1: D1Database, raise: OperationalEvent[], now: number, first: D1PreparedStatement[] = []): Promise<DeliveryMessage[]> {
  if (!raise.length && !first.length) return [];
  const results = await d1.batch([...first, ...(raise.length ? raiseStatements(d1, raise, now) : [])]);
  return raise.length ? raisedMessages(d1, results, now) : [];
}

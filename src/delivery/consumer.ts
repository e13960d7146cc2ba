import { database } from "../db/client";
import { BATCH_RETRY, withD1Retry } from "../db/d1-retry";
import { type Config, config, type Env } from "../env";
import { isOperational } from "../events/catalog";
import { holdBackOverLimit, requeueWaiting } from "../flow/throttle";
import { errorText, log } from "../log";
import { deliveryFailed } from "../operational/events";
import { type SecretBox, secretBox } from "../security/secret-box";
import { CountChanges } from "../stats/counters";
import { type BatchData, failDeliveries, loadBatch, raiseEvents, recordBatch } from "./batch-sql";
import { collectWrites } from "./batch-writes";
import { CRASH_RETRY_SECONDS, crashed, type Handled, judgeAttempt, type Sendable, type Triaged, triage } from "./decide";
import { type DeliveryMessage, enqueueCommitted } from "./message";
import { channelNames } from "./queries";
import { buildFault, buildRequest, callTarget } from "./request";
import { sendBackLater } from "./stall";

/** Workers allow 6 simultaneous outbound connections per invocation; more would wait in
 * line while their timeouts already run. */
const MAX_CONCURRENT_CALLS = 6;

/**
 * The delivery pipeline for one batch: load everything (one D1 read), send every due
 * delivery concurrently, record every attempt and change (one D1 write), then ack or retry
 * each message. No message's failure makes the batch throw, since Queues would then
 * redeliver the whole batch.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  let cfg: Config;
  let data: BatchData;
  let box: SecretBox;
  try {
    // A bad var (logged by config()) holds the batch back rather than act on a wrong schedule.
    cfg = config(env);
    box = await secretBox(env);
  } catch (err) {
    log.error("consumer could not start on its batch", { messages: batch.messages.length, error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  try {
    const messages = batch.messages.map((m) => m.body).filter((body) => Boolean(body?.deliveryId && body.channelId));
    data = await withD1Retry(() => loadBatch(env.DB, messages), BATCH_RETRY);
  } catch (err) {
    // D1's trouble, not the messages': they come back later without spending their retries.
    log.error("consumer could not load its batch", { messages: batch.messages.length, error: errorText(err) });
    await sendBackLater(env.DELIVERIES, batch, "load");
    return;
  }

  // Which messages send at all; then which of those their channels' rate limits let start now.
  const copies = copiesInBatch(batch.messages);
  const triaged = batch.messages.map(
    (message, i): Triaged =>
      // Two copies of one message in a batch (at-least-once queues): the first one sends.
      copies.has(i) ? { plan: { ack: true } } : triage(message.body, data, cfg),
  );
  await holdBackOverLimit(env, triaged);

  const handled = await mapConcurrently(triaged, MAX_CONCURRENT_CALLS, async (t, i): Promise<Handled> => {
    if ("plan" in t) return t;
    try {
      return await send(t, box, cfg);
    } catch (err) {
      // Not foreseen: still an attempt that failed, with the reason, on the retry schedule.
      log.error("delivery crashed", { deliveryId: batch.messages[i]!.body?.deliveryId, error: errorText(err) });
      try {
        return judgeAttempt(t.delivery, t.channel, Date.now(), buildFault("config", `internal error: ${errorText(err)}`), cfg);
      } catch {
        return crashed();
      }
    }
  });

  const now = Date.now();
  const writes = collectWrites(handled, data, now);
  let recorded: Awaited<ReturnType<typeof recordBatch>>;
  try {
    // The write is idempotent (RECORD_CHANGES): a try after one whose commit was reported
    // lost does not append an attempt twice.
    recorded = await withD1Retry(() => recordBatch(env.DB, writes, now), BATCH_RETRY);
  } catch (err) {
    // Nothing of this batch is recorded: every message comes back later, without spending
    // its retries, and sends again (at least once); none is failed for D1's trouble.
    log.error("consumer could not record its batch", { messages: batch.messages.length, error: errorText(err) });
    await sendBackLater(env.DELIVERIES, batch, "record");
    return;
  }
  await requeueWaiting(env, batch.messages, handled);
  batch.messages.forEach((message, i) => {
    const { plan, change } = handled[i]!;
    // A retry decided for a run that ended or was replaced meanwhile: its message is done.
    if (plan.ack || (change && !recorded.applied.has(change.id))) message.ack();
    else message.retry({ delaySeconds: plan.delaySeconds });
  });
  await enqueueCommitted(env.DELIVERIES, recorded.raised, "operational events");
}

/** One message that may send, in named steps: build, call, judge. */
async function send({ delivery, channel }: Sendable, box: SecretBox, cfg: Config): Promise<Handled> {
  const startedAt = Date.now();
  const built = await buildRequest(channel, { webhookId: delivery.eventId, body: delivery.body! }, box, cfg.portalUrl, startedAt, cfg);
  if (!built.ok) return judgeAttempt(delivery, channel, startedAt, built, cfg);
  // The URL and body it was built with (placeholders filled in, transformed); one new token on a 401.
  const { result, built: sent } = await callTarget(built, channel.timeoutSeconds * 1000);
  if (result.ok) result.body = sent.mask(result.body);
  return judgeAttempt(delivery, channel, startedAt, result, cfg, sent.sent);
}

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
    const raised = await raiseEvents(env.DB, raise, now, counts.size ? [counts.statement(env.DB)] : []);
    log.warn("dead-lettered", { deliveries: messages.length });
    batch.ackAll();
    await enqueueCommitted(env.DELIVERIES, raised, "operational events");
  } catch (err) {
    log.error("dead-letter consumer could not record", { error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
  }
}

/** The positions of messages that repeat an earlier message of the batch (same delivery and generation). */
function copiesInBatch(messages: readonly Message<DeliveryMessage>[]): Set<number> {
  const seen = new Set<string>();
  const copies = new Set<number>();
  messages.forEach((message, i) => {
    if (!message.body?.deliveryId) return;
    const key = `${message.body.deliveryId}/${message.body.generation ?? 0}`;
    if (seen.has(key)) copies.add(i);
    seen.add(key);
  });
  return copies;
}

async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

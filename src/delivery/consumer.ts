import { database } from "../db/client";
import { config, type Config, type Env } from "../env";
import { call, type CallResult } from "../http/outbound";
import { log } from "../log";
import { maskSecrets } from "../security/mask";
import { secretBox, type SecretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";
import { isOperational } from "../events/catalog";
import { CountChanges } from "../stats/counters";
import { deliveryFailed, webhookDisabled, type OperationalEvent } from "../operational/events";
import { enqueueDeliveries, type DeliveryMessage } from "./message";
import { judge, next, UNSUBSCRIBED } from "./outcome";
import { decryptCredentials, secretValues, signedRequest, type ChannelCredentials } from "./request";
import {
  channelNames,
  failDeliveries,
  raiseEvents,
  loadBatch,
  recordBatch,
  type BatchData,
  type BatchDelivery,
  type BatchWrites,
  type BatchChannel,
  type DeliveryChange,
} from "./store";

/** Queue delays are capped; a longer wait is served in several hops (see "not due yet"). */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;
/** Retry delay when the consumer itself could not do its work (D1 unavailable, a bug). */
const CRASH_RETRY_SECONDS = 30;
/** Workers allow 6 simultaneous outbound connections per invocation; more would wait in
 * line while their timeouts already run. */
const MAX_CONCURRENT_CALLS = 6;

/** What the consumer decided for one message. */
type Plan = { ack: true } | { ack: false; delaySeconds: number };

interface Handled {
  plan: Plan;
  change?: DeliveryChange;
  /** What the attempt says of the channel; `quiet`: an operational event's delivery, whose outcome raises nothing. */
  channel?: { id: string; ok: boolean; gone?: string; quiet: boolean };
  /** Raised when the delivery ends failed (never for an operational event's own delivery). */
  raise?: OperationalEvent;
}

/**
 * The delivery pipeline for one batch: load everything (one D1 read), send every due
 * delivery concurrently, record every attempt and change (one D1 write), then ack or retry
 * each message. No message's failure makes the batch throw, since Queues would then
 * redeliver the whole batch.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const db = database(env.DB);
  let cfg: Config;
  let data: BatchData;
  let box: SecretBox;
  try {
    // A bad var (logged by config()) holds the batch back rather than act on a wrong schedule.
    cfg = config(env);
    box = await secretBox(env);
    data = await loadBatch(db, [...new Set(batch.messages.map((m) => m.body?.deliveryId).filter(Boolean))]);
  } catch (err) {
    log.error("consumer could not load its batch", { messages: batch.messages.length, error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }

  // Each channel's secrets are decrypted once per batch, however many of its deliveries it holds.
  const credentials = new Map<string, Promise<ChannelCredentials>>();
  const copies = copiesInBatch(batch.messages);
  const handled = await mapConcurrently(batch.messages, MAX_CONCURRENT_CALLS, async (message, i): Promise<Handled> => {
    // Two copies of one message in a batch (at-least-once queues): the first one sends.
    if (copies.has(i)) return { plan: { ack: true } };
    try {
      return await handleMessage(message.body, data, credentials, box, cfg);
    } catch (err) {
      log.error("delivery crashed", { deliveryId: message.body?.deliveryId, error: errorText(err) });
      return { plan: { ack: false, delaySeconds: CRASH_RETRY_SECONDS } };
    }
  });

  const now = Date.now();
  const writes = collectWrites(handled, data, now);
  let raised: DeliveryMessage[];
  try {
    raised = await recordBatch(db, writes, now);
  } catch (err) {
    // Nothing of this batch is recorded: let every message come back (at least once).
    log.error("consumer could not record its batch", { messages: batch.messages.length, error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  batch.messages.forEach((message, i) => {
    const plan = handled[i]!.plan;
    if (plan.ack) message.ack();
    else message.retry({ delaySeconds: plan.delaySeconds });
  });
  await enqueueRaised(env, raised);
}

/** Queues the deliveries of raised operational events; if the queue refuses, the sweeper sends them. */
async function enqueueRaised(env: Env, messages: DeliveryMessage[]) {
  if (!messages.length) return;
  try {
    await enqueueDeliveries(env.DELIVERIES, messages);
  } catch (err) {
    log.error("enqueue of operational deliveries failed; the sweeper will resend", { deliveries: messages.length, error: errorText(err) });
  }
}

/** The operational event for a delivery that ended failed; none for an operational event's own. */
function failedEvent(delivery: BatchDelivery, channelName: string | null, attempts: number, lastStatusCode: number | null, lastError: string | null) {
  if (isOperational(delivery.eventType)) return undefined;
  return deliveryFailed(
    { deliveryId: delivery.id, channelId: delivery.channelId, channelName, eventId: delivery.eventId, eventType: delivery.eventType, attempts, lastStatusCode, lastError },
    Date.now(),
  );
}

/** One message, in named steps: triage, sign, call, judge. */
async function handleMessage(
  message: DeliveryMessage | undefined,
  data: BatchData,
  credentials: Map<string, Promise<ChannelCredentials>>,
  box: SecretBox,
  cfg: Config,
): Promise<Handled> {
  const triaged = triage(message, data, cfg);
  if ("plan" in triaged) return triaged;
  const { delivery, channel } = triaged;

  let channelCredentials = credentials.get(channel.id);
  if (!channelCredentials) {
    channelCredentials = decryptCredentials(channel, box, Date.now());
    credentials.set(channel.id, channelCredentials);
  }
  const secrets = await channelCredentials;
  const request = await signedRequest(channel.method, delivery.eventId, delivery.body!, secrets);
  const startedAt = Date.now();
  const result = await call(channel.url, request, channel.timeoutSeconds * 1000);
  if (result.ok) result.body = maskSecrets(result.body, secretValues(secrets));
  return judgeAttempt(delivery, channel, startedAt, result, cfg);
}

/** Whether this message should send at all; if not, what to do with it instead. */
function triage(message: DeliveryMessage | undefined, data: BatchData, cfg: Config): Handled | { delivery: BatchDelivery; channel: BatchChannel } {
  const delivery = message?.deliveryId ? data.deliveries.get(message.deliveryId) : undefined;
  // Purged, or never ours: nothing to do.
  if (!delivery || delivery.body === null) return { plan: { ack: true } };
  // A newer message (the sweeper's, or an admin's redeliver) looks after this delivery.
  if ((message?.generation ?? 0) !== delivery.generation) return { plan: { ack: true } };
  // Already at an end: a duplicate or late message. An admin's redeliver resets the status.
  if (delivery.status !== "pending" && delivery.status !== "retrying") return { plan: { ack: true } };
  // Early (a wait longer than the queue's maximum delay): back to the queue for the rest.
  const waitMs = (delivery.nextAttemptAt ?? 0) - Date.now();
  if (waitMs > 1000) return { plan: { ack: false, delaySeconds: Math.min(Math.ceil(waitMs / 1000), MAX_QUEUE_DELAY_SECONDS) } };

  const channel = data.channels.get(delivery.channelId);
  const end = (status: "cancelled" | "failed", lastError: string): Handled => ({
    plan: { ack: true },
    change: { id: delivery.id, status, nextAttemptAt: null, lastStatusCode: delivery.lastStatusCode, lastError },
    raise: status === "failed" ? failedEvent(delivery, channel?.name ?? null, delivery.attemptCount, delivery.lastStatusCode, lastError) : undefined,
  });
  if (!channel) return end("cancelled", "webhook deleted");
  if (!channel.enabled) return end("cancelled", `webhook disabled${channel.disabledReason ? `: ${channel.disabledReason}` : ""}`);
  if (!delivery.subscribed) return end("cancelled", UNSUBSCRIBED);
  const urlProblem = targetUrlProblem(channel.url, cfg.allowPrivateTargets);
  if (urlProblem) return end("failed", `URL ${urlProblem}`);
  return { delivery, channel };
}

/** The attempt's record, the delivery's next state, and what the queue should do. */
function judgeAttempt(delivery: BatchDelivery, channel: BatchChannel, startedAt: number, result: CallResult, cfg: Config): Handled {
  const outcome = judge(result, Date.now());
  const attemptNumber = delivery.attemptCount + 1;
  const then = next(outcome, attemptNumber - delivery.retryBase, cfg.retrySchedule);
  const statusCode = result.ok ? result.status : null;
  const error = result.ok ? (outcome.kind === "delivered" ? null : `target answered ${result.status}`) : `${result.error}: ${result.message}`;
  // Every attempt is in D1 already; the log carries only failures, for alerting.
  if (outcome.kind !== "delivered") {
    log.warn("attempt failed", {
      deliveryId: delivery.id,
      channelId: channel.id,
      attempt: attemptNumber,
      statusCode,
      error: result.ok ? null : result.error,
      durationMs: result.durationMs,
      next: then.status,
    });
  }

  const retrying = then.status === "retrying";
  const lastError = then.status === "failed" && then.reason ? then.reason : error;
  return {
    plan: retrying ? { ack: false, delaySeconds: Math.min(then.delaySeconds, MAX_QUEUE_DELAY_SECONDS) } : { ack: true },
    change: {
      id: delivery.id,
      status: then.status,
      attempt: {
        attempt: attemptNumber,
        startedAt,
        durationMs: result.durationMs,
        statusCode,
        error,
        responseBody: result.ok ? result.body : null,
      },
      nextAttemptAt: retrying ? Date.now() + then.delaySeconds * 1000 : null,
      lastStatusCode: statusCode,
      lastError,
    },
    channel: {
      id: channel.id,
      ok: outcome.kind === "delivered",
      gone: outcome.kind === "gone" ? "the target answered 410 Gone" : undefined,
      quiet: isOperational(delivery.eventType),
    },
    raise: then.status === "failed" ? failedEvent(delivery, channel.name, attemptNumber, statusCode, lastError) : undefined,
  };
}

/** A change's part in the stats: an attempt's latency and failure, and an end. */
function countChange(counts: CountChanges, change: DeliveryChange, delivery: BatchDelivery) {
  if (change.attempt) counts.attempt(delivery.channelId, delivery.createdAt, change.attempt);
  if (change.status === "succeeded" || change.status === "failed" || change.status === "cancelled") {
    counts.ended(delivery.channelId, delivery.createdAt, change.status);
  }
}

function collectWrites(handled: Handled[], { channels, deliveries }: BatchData, now: number): BatchWrites {
  const writes: BatchWrites = { changes: [], channelHealth: [], disable: [], raise: [], counts: new CountChanges() };
  const health = new Map<string, boolean>();
  for (const h of handled) {
    if (h.change) {
      writes.changes.push(h.change);
      countChange(writes.counts, h.change, deliveries.get(h.change.id)!);
    }
    if (h.raise) writes.raise.push(h.raise);
    if (h.channel) {
      // One success in the batch is enough to say the channel works.
      health.set(h.channel.id, (health.get(h.channel.id) ?? false) || h.channel.ok);
      if (h.channel.gone && !writes.disable.some((d) => d.id === h.channel!.id)) {
        writes.disable.push({ id: h.channel.id, reason: h.channel.gone });
        if (!h.channel.quiet) writes.raise.push(webhookDisabled({ id: h.channel.id, name: channels.get(h.channel.id)?.name ?? "" }, h.channel.gone, now));
      }
    }
  }
  // Only a streak that starts or ends is written; most batches have none.
  writes.channelHealth = [...health]
    .filter(([id, ok]) => ok === (channels.get(id)?.failingSince != null))
    .map(([id, ok]) => ({ id, ok }));
  return writes;
}

/** The dead-letter queue: messages that crashed the consumer too often end as `failed`. */
export async function consumeDeadLetters(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const messages = batch.messages.map((m) => m.body).filter((body) => Boolean(body?.deliveryId));
  const db = database(env.DB);
  try {
    const now = Date.now();
    const ended = await failDeliveries(db, messages, "dead-lettered: the consumer failed on it too many times", now);
    const counts = new CountChanges();
    for (const d of ended) counts.ended(d.channelId, d.createdAt, "failed");
    const failed = ended.filter((d) => !isOperational(d.eventType));
    const names = await channelNames(db, [...new Set(failed.map((d) => d.channelId))]);
    const raise = failed.map((d) => deliveryFailed({ ...d, channelName: names.get(d.channelId) ?? null }, now));
    const raised = await raiseEvents(db, raise, now, counts.size ? [counts.statement(env.DB)] : []);
    log.warn("dead-lettered", { deliveries: messages.length });
    batch.ackAll();
    await enqueueRaised(env, raised);
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

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

import { database } from "../db/client";
import { type Config, config, type Env } from "../env";
import { isOperational } from "../events/catalog";
import { admit } from "../flow/rate-limiter";
import { type CallResult, call } from "../http/outbound";
import { log } from "../log";
import { deliveryFailed, type OperationalEvent, webhookDisabled } from "../operational/events";
import { renderBody } from "../routing/formats";
import { maskSecrets } from "../security/mask";
import { type SecretBox, secretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";
import { CountChanges } from "../stats/counters";
import { type DeliveryMessage, enqueueDeliveries } from "./message";
import { judge, next, UNSUBSCRIBED } from "./outcome";
import { type ChannelCredentials, decryptCredentials, secretValues, signedRequest } from "./request";
import {
  type BatchChannel,
  type BatchData,
  type BatchDelivery,
  type BatchWrites,
  channelNames,
  type DeliveryChange,
  failDeliveries,
  loadBatch,
  raiseEvents,
  recordBatch,
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
  /** Seconds to wait for the channel's rate limit: the message goes back to the queue. */
  wait?: number;
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

  // Which messages send at all; then which of those their channels' rate limits let start now.
  const copies = copiesInBatch(batch.messages);
  const triaged = batch.messages.map(
    (message, i): Triaged =>
      // Two copies of one message in a batch (at-least-once queues): the first one sends.
      copies.has(i) ? { plan: { ack: true } } : triage(message.body, data, cfg),
  );
  await holdBackOverLimit(env, triaged);

  // Each channel's secrets are decrypted once per batch, however many of its deliveries it holds.
  const credentials = new Map<string, Promise<ChannelCredentials>>();
  const handled = await mapConcurrently(triaged, MAX_CONCURRENT_CALLS, async (t, i): Promise<Handled> => {
    if ("plan" in t) return t;
    try {
      return await send(t, credentials, box, cfg);
    } catch (err) {
      log.error("delivery crashed", { deliveryId: batch.messages[i]!.body?.deliveryId, error: errorText(err) });
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
  await requeueWaiting(env, batch.messages, handled);
  batch.messages.forEach((message, i) => {
    const plan = handled[i]!.plan;
    if (plan.ack) message.ack();
    else message.retry({ delaySeconds: plan.delaySeconds });
  });
  await enqueueRaised(env, raised);
}

type Sendable = { delivery: BatchDelivery; channel: BatchChannel };
type Triaged = Handled | Sendable;

/**
 * Rate limits: the sendable messages of each rate-limited channel ask its limiter for a
 * start now, in batch order (so a drained backlog keeps its order); those it refuses wait
 * in the queue. Waiting is not an attempt. Channels without a limit are not asked.
 */
async function holdBackOverLimit(env: Env, triaged: Triaged[]) {
  const wanted = new Map<string, { count: number; limit: number }>();
  for (const t of triaged) {
    if ("plan" in t || t.channel.rateLimit === null) continue;
    const want = wanted.get(t.channel.id) ?? { count: 0, limit: t.channel.rateLimit };
    want.count++;
    wanted.set(t.channel.id, want);
  }
  if (!wanted.size) return;
  const answers = await admit(env.RATE_LIMITER, wanted);
  triaged.forEach((t, i) => {
    if ("plan" in t || t.channel.rateLimit === null) return;
    const answer = answers.get(t.channel.id)!;
    if (answer.granted > 0) answer.granted--;
    else triaged[i] = { plan: { ack: true }, wait: Math.ceil(answer.waitsMs.shift()! / 1000) };
  });
}

/**
 * Messages waiting for their rate limit go back to the queue as new messages, with the
 * wait as their delay: a retry would count towards the queue's max_retries, and a long
 * backlog must never end in the dead-letter queue. If the queue refuses, they are retried.
 */
async function requeueWaiting(env: Env, messages: readonly Message<DeliveryMessage>[], handled: Handled[]) {
  const waiting = handled.flatMap((h, i) => (h.wait ? [{ i, body: messages[i]!.body, delaySeconds: h.wait }] : []));
  if (!waiting.length) return;
  try {
    await env.DELIVERIES.sendBatch(waiting.map(({ body, delaySeconds }) => ({ body, delaySeconds })));
  } catch (err) {
    log.warn("could not queue rate-limited messages again; retrying them", { messages: waiting.length, error: errorText(err) });
    for (const { i, delaySeconds } of waiting) handled[i] = { plan: { ack: false, delaySeconds } };
  }
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
    {
      deliveryId: delivery.id,
      channelId: delivery.channelId,
      channelName,
      eventId: delivery.eventId,
      eventType: delivery.eventType,
      attempts,
      lastStatusCode,
      lastError,
    },
    Date.now(),
  );
}

/** One message that may send, in named steps: sign, call, judge. */
async function send({ delivery, channel }: Sendable, credentials: Map<string, Promise<ChannelCredentials>>, box: SecretBox, cfg: Config): Promise<Handled> {
  let channelCredentials = credentials.get(channel.id);
  if (!channelCredentials) {
    channelCredentials = decryptCredentials(channel, box, Date.now());
    credentials.set(channel.id, channelCredentials);
  }
  const secrets = await channelCredentials;
  // A chat format rewrites the body; the signature is over the bytes actually sent.
  const request = await signedRequest(channel.method, delivery.eventId, renderBody(channel.format, delivery.body!, cfg.portalUrl), secrets);
  const startedAt = Date.now();
  const result = await call(channel.url, request, channel.timeoutSeconds * 1000);
  if (result.ok) result.body = maskSecrets(result.body, secretValues(secrets));
  return judgeAttempt(delivery, channel, startedAt, result, cfg);
}

/** Whether this message should send at all; if not, what to do with it instead. */
function triage(message: DeliveryMessage | undefined, data: BatchData, cfg: Config): Triaged {
  const delivery = message?.deliveryId ? data.deliveries.get(message.deliveryId) : undefined;
  // Purged, or never ours: nothing to do.
  if (!delivery || delivery.body === null) return { plan: { ack: true } };
  // A newer message (the sweeper's, or an admin's redeliver) looks after this delivery.
  if ((message?.generation ?? 0) !== delivery.generation) return { plan: { ack: true } };
  // Already at an end: a duplicate or late message. An admin's redeliver resets the status.
  // Held (paused) deliveries have no message of their own: one that arrives is dropped too.
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
  // Paused: held, not sent and not an attempt, until the channel resumes.
  if (channel.paused) {
    return {
      plan: { ack: true },
      change: { id: delivery.id, status: "held", nextAttemptAt: null, lastStatusCode: delivery.lastStatusCode, lastError: delivery.lastError },
    };
  }
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
  writes.channelHealth = [...health].filter(([id, ok]) => ok === (channels.get(id)?.failingSince != null)).map(([id, ok]) => ({ id, ok }));
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

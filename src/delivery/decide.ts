import type { Config } from "../core/env";
import { log } from "../core/log";
import type { AttemptRecord } from "../db/delivery-state";
import type { BatchChannel, BatchData, BatchDelivery, DeliveryMessage, Handled, Triaged } from "../db/records";
import { held } from "../flow/recheck";
import { deliveryFailed } from "../operational/events";
import { isOperational } from "../portal/catalog";
import { targetUrlProblem } from "../security/target-url";
import { type AttemptOutcome, GONE, judge, type Next, next, UNSUBSCRIBED } from "./outcome";
import { type AttemptResult, isBuildFault } from "./request";

/**
 * What becomes of each message of a batch, decided in one place: `triage` before sending
 * (drop, hold, end, or send), `judgeAttempt` after (the attempt's record, the delivery's
 * next state, and ack or retry). The consumer only carries the decisions out.
 */

/** Queue delays are capped; a longer wait is served in several hops (see "not due yet"). */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;
/** Retry delay when the consumer itself could not do its work (D1 unavailable, a bug). */
export const CRASH_RETRY_SECONDS = 30;

/** A message the consumer could not handle (a bug, D1 down): it comes back later. */
export const crashed = (): Handled => ({ plan: { ack: false, delaySeconds: CRASH_RETRY_SECONDS } });

/** Whether this message should send at all; if not, what to do with it instead. */
export function triage(message: DeliveryMessage | undefined, data: BatchData, cfg: Config): Triaged {
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
  const { channelId, id, generation } = delivery;
  const end = (status: "cancelled" | "failed", lastError: string): Handled => ({
    plan: { ack: true },
    change: { channelId, id, generation, status, nextAttemptAt: null, lastStatusCode: delivery.lastStatusCode, lastError },
    raise: status === "failed" ? failedEvent(delivery, channel?.name ?? null, delivery.attemptCount, delivery.lastStatusCode, lastError) : undefined,
  });
  if (!channel) return end("cancelled", "webhook deleted");
  if (!channel.enabled) return end("cancelled", `webhook disabled${channel.disabledReason ? `: ${channel.disabledReason}` : ""}`);
  if (!delivery.subscribed) return end("cancelled", UNSUBSCRIBED);
  // Paused: held, not sent and not an attempt, until the channel resumes.
  if (channel.paused) return held(delivery);
  const urlProblem = targetUrlProblem(channel.url, cfg.allowPrivateTargets);
  if (urlProblem) return end("failed", `URL ${urlProblem}`);
  return { delivery, channel };
}

/**
 * The attempt's record, the delivery's next state, and what the queue should do. `sent`:
 * the URL and body sent, kept in the attempt when the channel rewrites them.
 */
export function judgeAttempt(
  delivery: BatchDelivery,
  channel: BatchChannel,
  startedAt: number,
  result: AttemptResult,
  cfg: Config,
  sent?: { url: string; body: string },
): Handled {
  const outcome = judge(result, Date.now());
  const then = next(outcome, delivery.attemptCount + 1 - delivery.retryBase, cfg.retrySchedule);
  // Nothing to send is no attempt: the delivery ends, its attempts and the channel's health as they were.
  if (then.status === "cancelled") {
    const { channelId, id, generation } = delivery;
    return {
      plan: { ack: true },
      change: { channelId, id, generation, status: "cancelled", nextAttemptAt: null, lastStatusCode: delivery.lastStatusCode, lastError: then.reason },
    };
  }
  const attempt = attemptRecord(delivery, startedAt, result, outcome);
  if (sent) attempt.request = sent;
  if (outcome.kind !== "delivered") logFailure(delivery, channel, attempt, result, then);
  const retrying = then.status === "retrying";
  const lastError = then.status === "failed" && then.reason ? then.reason : attempt.error;
  return {
    plan: retrying ? { ack: false, delaySeconds: Math.min(then.delaySeconds, MAX_QUEUE_DELAY_SECONDS) } : { ack: true },
    change: {
      channelId: delivery.channelId,
      id: delivery.id,
      generation: delivery.generation,
      status: then.status,
      attempt,
      nextAttemptAt: retrying ? Date.now() + then.delaySeconds * 1000 : null,
      lastStatusCode: attempt.statusCode,
      lastError,
    },
    // A request never built says nothing of the target: the channel's health stays as it was.
    channel: isBuildFault(result)
      ? undefined
      : { id: channel.id, ok: outcome.kind === "delivered", gone: outcome.kind === "gone" ? GONE : undefined, quiet: isOperational(delivery.eventType) },
    raise: then.status === "failed" ? failedEvent(delivery, channel.name, attempt.attempt, attempt.statusCode, lastError) : undefined,
  };
}

/** The attempt as its delivery's log keeps it: when, how long, the answer or the error. */
function attemptRecord(delivery: BatchDelivery, startedAt: number, result: AttemptResult, outcome: AttemptOutcome): AttemptRecord {
  const error = result.ok
    ? outcome.kind === "delivered"
      ? null
      : `target answered ${result.status}`
    : isBuildFault(result)
      ? result.message
      : `${result.error}: ${result.message}`;
  return {
    attempt: delivery.attemptCount + 1,
    startedAt,
    durationMs: result.durationMs,
    statusCode: result.ok ? result.status : null,
    error,
    responseBody: result.ok ? result.body : null,
  };
}

/** Every attempt is in D1 already; the log carries only failures, for alerting. */
function logFailure(delivery: BatchDelivery, channel: BatchChannel, attempt: AttemptRecord, result: AttemptResult, then: Next) {
  log.warn("attempt failed", {
    deliveryId: delivery.id,
    channelId: channel.id,
    attempt: attempt.attempt,
    statusCode: attempt.statusCode,
    error: result.ok ? null : result.error,
    durationMs: result.durationMs,
    next: then.status,
  });
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
      lane: delivery.lane,
    },
    Date.now(),
  );
}

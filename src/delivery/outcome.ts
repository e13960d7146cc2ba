import { retryAfterSeconds, scheduledDelay } from "../retry/backoff";
import { type AttemptResult, NOTHING_TO_SEND } from "./request";

/** Why a delivery fails and its channel is disabled on a 410: one sentence for both. */
export const GONE = "the target answered 410 Gone";

/** Why a delivery ends `cancelled` when its channel dropped the event type. */
export const UNSUBSCRIBED = "webhook unsubscribed from this event type";

/**
 * What one attempt came to, judged by what the target did; `unsendable`: the event's own
 * data kept the request from being built, which no retry can change; `nothing`: the
 * channel's Transform yields nothing for the event, so there is nothing to send.
 */
export type AttemptOutcome = { kind: "delivered" } | { kind: "gone" } | { kind: "unsendable" } | { kind: "nothing" } | { kind: "failed"; retryAfter?: number };

export function judge(result: AttemptResult, now: number): AttemptOutcome {
  if (!result.ok) return result.error === "data" ? { kind: "unsendable" } : result.error === "nothing" ? { kind: "nothing" } : { kind: "failed" };
  if (result.status >= 200 && result.status < 300) return { kind: "delivered" };
  if (result.status === 410) return { kind: "gone" };
  if (result.status === 429 || result.status === 503) {
    return { kind: "failed", retryAfter: retryAfterSeconds(result.headers.get("Retry-After"), now) };
  }
  return { kind: "failed" };
}

/** What happens next to the delivery, and so to its queue message. */
export type Next =
  | { status: "succeeded" }
  | { status: "failed"; reason?: string }
  | { status: "cancelled"; reason: string }
  | { status: "retrying"; delaySeconds: number };

/**
 * The one place that turns an attempt's outcome into the delivery's next state.
 * `attemptInRun` counts this attempt within the current run (1 for the first).
 */
export function next(outcome: AttemptOutcome, attemptInRun: number, schedule: number[], random = Math.random): Next {
  switch (outcome.kind) {
    case "delivered":
      return { status: "succeeded" };
    case "gone":
      return { status: "failed", reason: GONE };
    case "unsendable":
      return { status: "failed" };
    case "nothing":
      return { status: "cancelled", reason: NOTHING_TO_SEND };
    case "failed": {
      // Attempt n is followed by retry n; the schedule has one delay per retry.
      const delay = scheduledDelay(schedule, attemptInRun, random);
      if (delay === undefined) return { status: "failed" };
      return { status: "retrying", delaySeconds: Math.max(delay, outcome.retryAfter ?? 0) };
    }
  }
}

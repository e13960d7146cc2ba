import { MAX_RETRY_AFTER_SECONDS, scheduledDelay } from "./backoff";

/*
 * How many of the deliveries queue's retries a RETRY_SCHEDULE spends, so that config
 * can refuse a schedule the queue cannot carry out (src/core/env.ts).
 *
 * Every wait of the schedule is a `message.retry({ delaySeconds })` of the delivery's
 * message, and Queues counts each one towards the consumer's max_retries; past that the
 * message goes to the dead-letter queue, which ends the delivery `failed` in the middle
 * of its schedule. A wait longer than the queue's maximum delay is served in hops: the
 * message comes back early and is retried for the rest ("not due yet" in
 * src/delivery/decide.ts), one retry per 12 h piece.
 */

/** The deliveries consumer's max_retries, as wrangler.toml sets it (Queues allows at most 100). */
export const DELIVERY_QUEUE_MAX_RETRIES = 100;

/**
 * Retries kept for the consumer's own trouble, which also spends them: a crash on the
 * message, a bad var, a queue that refuses a send-back or a rate-limit wait (each a
 * retry of about 30 s). A message that only ever crashes is still dead-lettered after
 * 100 of them, 50 minutes.
 */
export const RESERVED_RETRIES = 20;

/** Retries a whole schedule may spend: 80. */
export const SCHEDULE_RETRY_BUDGET = DELIVERY_QUEUE_MAX_RETRIES - RESERVED_RETRIES;

/** The longest delay a queue message can be given, in seconds (decide.ts MAX_QUEUE_DELAY_SECONDS). */
export const QUEUE_MAX_DELAY_SECONDS = 12 * 60 * 60;

/**
 * Queue retries that one wait of `seconds` takes at most: its jittered length (up to
 * +20%), or a `Retry-After` of up to 24 h if the target sends one, in 12 h hops. So at
 * least 2, and 17 for the 7-day maximum.
 */
export function retriesForWait(seconds: number): number {
  const longest = Math.max(scheduledDelay([seconds], 1, () => 1) ?? 0, MAX_RETRY_AFTER_SECONDS);
  return Math.ceil(longest / QUEUE_MAX_DELAY_SECONDS);
}

/** Queue retries a whole schedule takes at most (the default schedule: 14). */
export const retriesForSchedule = (schedule: readonly number[]): number => schedule.reduce((sum, seconds) => sum + retriesForWait(seconds), 0);

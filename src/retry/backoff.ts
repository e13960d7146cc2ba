/** Waits between attempts: the configured schedule with ±20% jitter, and `Retry-After`. */

export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

/** The schedule's delay before retry number `retry` (1-indexed), or undefined when none is left. */
export function scheduledDelay(schedule: number[], retry: number, random = Math.random): number | undefined {
  const base = schedule[retry - 1];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (0.8 + 0.4 * random())));
}

/** `Retry-After` as seconds from now (delta-seconds or an HTTP date), capped at 24 hours. */
export function retryAfterSeconds(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - now) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil(seconds)));
}

/*
 * D1's transient errors, and a bounded retry for them.
 *
 * D1 does not retry writes itself (it retries read-only queries twice since 2025-09), and
 * its documentation names the errors worth retrying: "Network connection lost", "storage
 * caused object to be reset", "reset because its code was updated"
 * (https://developers.cloudflare.com/d1/best-practices/retry-queries/), and an overloaded
 * database, "D1 DB is overloaded. Requests queued for too long." (the error list in
 * https://developers.cloudflare.com/d1/observability/debug-d1/). Locally, a database
 * another process has locked answers `SQLITE_BUSY` ("database is locked"): the same kind
 * of trouble, so it counts too. Anything else (a constraint, a syntax error, a bug) is
 * not cured by waiting and is never retried.
 *
 * A retried write must be idempotent: "Network connection lost" may come after the
 * write committed. The callers' writes are (see src/intake/store.ts and RECORD_CHANGES in
 * src/delivery/batch-sql.ts).
 */

const RETRYABLE = [
  "Network connection lost",
  "storage caused object to be reset",
  "reset because its code was updated",
  "D1 DB is overloaded",
  "database is locked",
  "SQLITE_BUSY",
];

/** Whether `err` is one of D1's transient errors (by its message, as D1 documents them). */
export function isRetryableD1Error(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ""}` : String(err);
  return RETRYABLE.some((m) => text.includes(m));
}

export interface RetryBudget {
  /** Tries in all, the first included. */
  tries: number;
  /** The wait before the second try, in ms; each further wait doubles, with ±50% jitter. */
  firstWaitMs: number;
  /** No try starts after this long since the first one started, in ms. */
  withinMs: number;
}

/** Intake answers the portal within a few seconds: three tries within 1.5 s. */
export const INTAKE_RETRY: RetryBudget = { tries: 3, firstWaitMs: 150, withinMs: 1500 };
/** A consumer invocation has minutes, but its messages wait too: four tries within 5 s. */
export const BATCH_RETRY: RetryBudget = { tries: 4, firstWaitMs: 250, withinMs: 5000 };

/**
 * Runs `work`, again after a short backoff while it fails with a retryable D1 error and the
 * budget allows. Throws the last error. `work` gets the try's number (1, 2, …): a try after
 * the first may find its predecessor's write committed.
 */
export async function withD1Retry<T>(work: (attempt: number) => Promise<T>, budget: RetryBudget): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      const waitMs = budget.firstWaitMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      if (attempt >= budget.tries || !isRetryableD1Error(err) || Date.now() - started + waitMs > budget.withinMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

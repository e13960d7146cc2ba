import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isRetryableD1Error } from "../db/d1-retry";
import type { AppEnv } from "./env";
import { ApiError, NotFound, Refused } from "./errors";
import { errorText, log } from "./log";

/*
 * The one place an error becomes a response (`{"errors": [...]}`, the contract's shape):
 * the app's onError. Code throws (src/core/errors.ts); this decides what the caller sees
 * and what is logged.
 */

const HTTP_STATUS_FIELDS: Record<number, string> = {
  400: "body",
  401: "Authorization",
  404: "path",
  405: "method",
  413: "body",
  415: "Content-Type",
};

const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * D1's transient errors (src/db/d1-retry.ts), and the runtime's bare internal error
 * (`internal error; reference = …`, D1's or, from a query, drizzle's cause), which is how
 * the local runtime reports a database another process has locked. The admin routes touch
 * no other binding that could fail so, and either way a retry is the caller's best move.
 */
function databaseUnavailable(err: Error): boolean {
  const text = `${err.message}\n${err.cause instanceof Error ? err.cause.message : ""}`;
  return isRetryableD1Error(err) || /(^|\bD1_ERROR\b.*)internal error\b/im.test(text);
}

type Answer = { status: ContentfulStatusCode; errors: string[]; retryAfter?: number };

/** What an error comes to for the caller; what is not the caller's doing is logged. */
function answerFor(err: Error, c: Context, logged: ReturnType<typeof log.forRequest>): Answer {
  const where = { path: c.req.path, method: c.req.method };
  if (err instanceof ApiError) {
    if (err.status >= 500) logged.warn("answered with an error", { ...where, status: err.status, error: err.message });
    return err;
  }
  if (err instanceof NotFound) return { status: 404, errors: [err.message] };
  if (err instanceof Refused) return { status: 422, errors: [err.message] };
  if (err instanceof HTTPException) {
    // Hono's validator on a JSON body it cannot parse (an empty one: src/http/json-body.ts
    // answers the rest): the same words as for any other malformed body.
    if (err.status === 400 && /malformed json/i.test(err.message)) return { status: 400, errors: ["body: malformed JSON"] };
    const field = HTTP_STATUS_FIELDS[err.status] ?? "request";
    return { status: err.status, errors: [`${field}: ${err.message || "rejected"}`] };
  }
  // The database is down or overloaded for a moment: nothing was wrong with the request.
  if (databaseUnavailable(err)) {
    logged.warn("database unavailable", { ...where, error: err.message });
    return { status: 503, errors: ["database: unavailable for a moment; try again shortly"], retryAfter: DATABASE_RETRY_AFTER_SECONDS };
  }
  // Never echo internals: the log has the details, the caller gets a reference.
  // drizzle wraps D1's error ("Failed query: …"): its cause says what went wrong.
  logged.error("unhandled", { ...where, error: err.message, cause: err.cause === undefined ? undefined : errorText(err.cause) });
  return { status: 500, errors: ["server: internal error"] };
}

/**
 * The one error response. Every response carries `X-Request-Id` (the requestId
 * middleware); a 5xx, ours to explain, also names it in its body as `RequestId`, and the
 * log lines written for it carry the same id.
 */
export function errorResponse(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId");
  const { status, errors, retryAfter } = answerFor(err, c, log.forRequest(requestId));
  if (retryAfter !== undefined) c.header("Retry-After", String(retryAfter));
  return c.json(status >= 500 ? { errors, RequestId: requestId } : { errors }, status);
}

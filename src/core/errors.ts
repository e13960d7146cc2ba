import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

/** The contract's cap: a huge invalid input must not become a huge (or failing) answer. */
export const MAX_ERRORS = 20;

/**
 * The one error type: thrown anywhere, turned into `{"errors": ["Field: why", ...]}` by
 * `errorResponse` (src/core/error-response.ts). Every message names what it is about, as the portal's own API does.
 * At most MAX_ERRORS entries: past that, the last one says how many more there were.
 */
export class ApiError extends Error {
  readonly errors: string[];
  /** Seconds after which the same request may work (sent as `Retry-After`). */
  retryAfter?: number;

  /** `total` counts every problem found, when only some of them were put into words. */
  constructor(
    readonly status: ContentfulStatusCode,
    errors: readonly string[],
    total = errors.length,
  ) {
    const shown = total > MAX_ERRORS ? [...errors.slice(0, MAX_ERRORS - 1), `body: ${total - MAX_ERRORS + 1} more problems not shown`] : [...errors];
    super(shown.join("; "));
    this.errors = shown;
  }

  static invalid(field: string, why: string) {
    return new ApiError(422, [`${field}: ${why}`]);
  }

  static notFound(what: string) {
    return new ApiError(404, [`${what}: not found`]);
  }

  /** A 503 for a moment's trouble of ours: the caller is told when to try again. */
  static unavailable(errors: readonly string[], retryAfterSeconds: number) {
    const err = new ApiError(503, errors);
    err.retryAfter = retryAfterSeconds;
    return err;
  }

  static fromZod(error: z.ZodError, root = "body") {
    const at = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join(".") : root);
    const messages: string[] = [];
    let total = 0;
    // A typo must be named as such: `Fitler: unknown field`, `statuss: unknown parameter`.
    const unknown = root === "query" ? "unknown parameter" : "unknown field";
    for (const issue of error.issues) {
      const lines =
        issue.code === "unrecognized_keys" ? issue.keys.map((key) => `${at([...issue.path, key])}: ${unknown}`) : [`${at(issue.path)}: ${issue.message}`];
      total += lines.length;
      // Only what can be shown is kept; the rest is counted.
      if (messages.length < MAX_ERRORS) messages.push(...lines.slice(0, MAX_ERRORS - messages.length));
    }
    return new ApiError(422, messages, total);
  }
}

/**
 * Domain errors: what stores and domain functions throw, knowing nothing of HTTP.
 * `errorResponse` gives each its status, like every other error.
 */
export class NotFound extends Error {
  constructor(readonly what: string) {
    super(`${what}: not found`);
  }
}

/** A change the data refuses (a rule checked in the write itself), naming the field. */
export class Refused extends Error {
  constructor(
    readonly field: string,
    readonly why: string,
  ) {
    super(`${field}: ${why}`);
  }
}

/** A deployment mistake (a missing secret, a bad var): the operator's to fix, never the caller's. */
export class ConfigError extends ApiError {
  constructor(problems: string[]) {
    super(503, problems);
  }

  static missing(what: string) {
    return new ConfigError([`${what}: not configured on this deployment`]);
  }
}

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { log } from "./log";

/**
 * The one error type: thrown anywhere, turned into `{"errors": ["Field: why", ...]}` by
 * `errorResponse`. Every message names what it is about, as the portal's own API does.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errors: string[],
  ) {
    super(errors.join("; "));
  }

  static invalid(field: string, why: string) {
    return new ApiError(422, [`${field}: ${why}`]);
  }

  static notFound(what: string) {
    return new ApiError(404, [`${what}: not found`]);
  }

  static fromZod(error: z.ZodError, root = "body") {
    return new ApiError(
      422,
      error.issues.map((issue) => `${issue.path.length ? issue.path.join(".") : root}: ${issue.message}`),
    );
  }
}

/** A deployment mistake (a missing secret): the operator's to fix, never the caller's. */
export class ConfigError extends ApiError {
  constructor(what: string) {
    super(503, [`${what}: not configured on this deployment`]);
  }
}

const HTTP_STATUS_FIELDS: Record<number, string> = {
  400: "body",
  401: "Authorization",
  404: "path",
  405: "method",
  413: "body",
  415: "Content-Type",
};

export function errorResponse(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json({ errors: err.errors }, err.status);
  if (err instanceof HTTPException) {
    const field = HTTP_STATUS_FIELDS[err.status] ?? "request";
    return c.json({ errors: [`${field}: ${err.message || "rejected"}`] }, err.status);
  }
  // Never echo internals: the log has the details, the caller gets a reference.
  log.error("unhandled", { path: c.req.path, method: c.req.method, error: err.message });
  return c.json({ errors: ["server: internal error"] }, 500);
}

import type { Router } from "hono/router";
import type { RouterRoute } from "hono/types";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * The methods that have a handler of their own (not a middleware, not a catch-all) at
 * `path` in an app's `router`, for a 405's `Allow` header (RFC 9110 §15.5.6, §10.2.1):
 * e.g. `["GET", "HEAD", "PATCH", "DELETE"]`; HEAD wherever GET is, as Hono answers it.
 * Empty when no method has one: the path itself is unknown (a 404).
 */
export function allowedMethods(router: Router<[unknown, RouterRoute]>, path: string): string[] {
  const allowed = METHODS.filter((method) => router.match(method, path)[0].some(([[, route]]) => route.method === method && !route.path.endsWith("*")));
  return allowed.flatMap((method) => (method === "GET" ? ["GET", "HEAD"] : [method]));
}

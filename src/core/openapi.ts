import { OpenAPIHono, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";

/**
 * A router whose validation failures become the one error shape (422, fields named), and
 * whose routes refuse a query parameter they do not declare, as a body refuses an unknown
 * field (`statuss: unknown parameter`): a typo must not pass for "no filter". Each route's
 * declared query schema is made strict here, and a route that declares none takes none,
 * so declaring a parameter in the route's schema is all it takes to accept it. Likewise a
 * route that declares no body takes none (`noBody`).
 */
export function router() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ApiError.fromZod(result.error, result.target === "json" ? "body" : result.target);
    },
  });
  const declare = app.openapi;
  app.openapi = ((route: Parameters<typeof declare>[0], ...rest: unknown[]) =>
    (declare as (...args: unknown[]) => typeof app)(
      {
        ...route,
        request: { ...route.request, query: strictQuery(route.request?.query) },
        ...(route.request?.body ? {} : { middleware: [route.middleware ?? []].flat().concat(noBody) }),
      },
      ...rest,
    )) as typeof declare;
  return app;
}

const NO_QUERY = z.strictObject({});

function strictQuery(query: unknown) {
  if (query === undefined) return NO_QUERY;
  return query instanceof z.ZodObject ? query.strict() : query;
}

const NO_FIELDS = z.strictObject({});

/**
 * For a route that declares no body: none, an empty one or `{}` (no fields) pass; a field
 * is refused as a declared body refuses one it does not know (`Fitler: unknown field`),
 * and anything else (an array, text, a form) as a body the route does not take. A
 * setting sent to the wrong route must not pass for done.
 */
const noBody = createMiddleware<AppEnv>(async (c, next) => {
  const json = /json/i.test(c.req.header("Content-Type") ?? "");
  // Read as text only when it says it is JSON (the runtime warns of reading other content as text).
  const text = !c.req.raw.body ? "" : json ? await c.req.text() : new TextDecoder().decode(await c.req.arrayBuffer());
  if (text.trim()) {
    const fields = json ? jsonObject(text) : undefined;
    if (fields === undefined) throw ApiError.invalid("body", "this route takes no body");
    const result = NO_FIELDS.safeParse(fields);
    if (!result.success) throw ApiError.fromZod(result.error);
  }
  await next();
});

/** The JSON text's value when it is an object, else undefined (malformed JSON included). */
function jsonObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const Errors = z.object({ errors: z.array(z.string()) }).openapi("Errors");

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/** A 5xx names the request (also in `X-Request-Id`): its id is in the log lines written for it. */
export const ServerError = Errors.extend({ RequestId: z.string() }).openapi("ServerError");

export const errorResponses = {
  400: json(Errors, "A body that is not JSON"),
  401: json(Errors, "Missing or wrong token"),
  404: json(Errors, "Not found"),
  413: json(Errors, "A body over 1 MiB"),
  415: json(Errors, "A body that is not application/json"),
  422: json(Errors, "Invalid input; each entry names its field"),
  500: json(ServerError, "An error of ours; the log has the details under RequestId"),
  503: json(ServerError, "The database is unavailable for a moment (Retry-After), or a var is misconfigured"),
};

/** Strict, like every query (see `router`): a route extends it with its own parameters. */
export const Pagination = z.strictObject({
  page: z.coerce
    .number()
    .int()
    .min(1)
    .default(1)
    .openapi({ param: { in: "query" } }),
  per_page: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { in: "query" } }),
});

/**
 * A path's id is looked up whatever its shape: one that is not an id is not found (404, as
 * on every route), like an id that was never made or was deleted. Ids in a body are checked
 * (`WebhookId`, `EventId`): there a malformed one is the caller's input to name (422).
 */
export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { in: "path" } }),
});

/** A webhook's id in a body: a UUID, as channels are made (`crypto.randomUUID`). */
export const WebhookId = z.uuid({ error: "must be a webhook ID (a UUID)" });

/** An event's id in a body: a UUIDv7, as events are made (src/db/ids.ts). */
export const EventId = z.uuid({ version: "v7", error: "must be an event ID (a UUIDv7)" });

/**
 * A window's bounds in order: when both are given, `since` before `until`, else a 422 as
 * on every route that takes both (`since: must be before until`, in the route's own
 * spelling of the two). An empty or reversed window is a mistake, never "nothing
 * matched". Checked once the fields themselves are valid (they name their own problems).
 */
export function sinceBeforeUntil<T extends z.ZodObject>(schema: T, since: string, until: string) {
  return schema.refine(
    (value) => {
      const { [since]: start, [until]: end } = value as Record<string, unknown>;
      return typeof start !== "string" || typeof end !== "string" || Date.parse(start) < Date.parse(end);
    },
    { path: [since], message: `must be before ${until}`, when: (payload) => payload.issues.length === 0 },
  );
}

export const Ok = z.object({ status: z.literal("ok") }).openapi("Ok");

export const admin = [{ AdminToken: [] }];

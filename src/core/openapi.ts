import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "./env";
import { ApiError } from "./errors";

/**
 * A router whose validation failures become the one error shape (422, fields named), and
 * whose routes refuse a query parameter they do not declare, as a body refuses an unknown
 * field (`statuss: unknown parameter`): a typo must not pass for "no filter". Each route's
 * declared query schema is made strict here, and a route that declares none takes none,
 * so declaring a parameter in the route's schema is all it takes to accept it.
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
      { ...route, request: { ...route.request, query: strictQuery(route.request?.query) } },
      ...rest,
    )) as typeof declare;
  return app;
}

const NO_QUERY = z.strictObject({});

function strictQuery(query: unknown) {
  if (query === undefined) return NO_QUERY;
  return query instanceof z.ZodObject ? query.strict() : query;
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
  401: json(Errors, "Missing or wrong token"),
  404: json(Errors, "Not found"),
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

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { in: "path" } }),
});

export const Ok = z.object({ status: z.literal("ok") }).openapi("Ok");

export const admin = [{ AdminToken: [] }];

import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "./env";
import { ApiError } from "./errors";

export type AppEnv = { Bindings: Env };

/** A router whose validation failures become the one error shape (422, fields named). */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ApiError.fromZod(result.error, result.target === "json" ? "body" : result.target);
    },
  });
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

export const errorResponses = {
  401: json(Errors, "Missing or wrong token"),
  404: json(Errors, "Not found"),
  422: json(Errors, "Invalid input; each entry names its field"),
};

export const Pagination = z.object({
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

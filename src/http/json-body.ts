import { createMiddleware } from "hono/factory";
import { ApiError } from "../core/errors";
import { type JsonStructureRules, jsonStructureProblem } from "./json-structure";

/** Deeper than any real event or setting; past it a 422, never a stack overflow later. */
export const MAX_JSON_DEPTH = 64;

/**
 * The JSON text's structure problem as the one error shape, if it has one. Intake keeps and
 * forwards the portal's bytes as they are, so only admin bodies (settings we read back and
 * save) need `finiteNumbers`.
 */
export function assertJsonStructure(text: string, rules: JsonStructureRules = {}) {
  const problem = jsonStructureProblem(text, MAX_JSON_DEPTH, rules);
  if (problem) throw ApiError.invalid(problem.path || "body", problem.why);
}

/**
 * For admin requests with a JSON body: malformed JSON is a 400, a repeated key, absurd
 * nesting or a number a double cannot hold (`1e400`) a 422 naming where, before any
 * route's validator sees it. Hono caches the text it reads here, so the validator parses
 * the same bytes without reading the stream again.
 */
export const checkedJsonBody = createMiddleware(async (c, next) => {
  if (!/json/i.test(c.req.header("Content-Type") ?? "")) return next();
  const text = await c.req.text();
  if (!text) return next();
  try {
    JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) throw ApiError.invalid("body", `nested deeper than ${MAX_JSON_DEPTH} levels`);
    throw new ApiError(400, ["body: malformed JSON"]);
  }
  assertJsonStructure(text, { finiteNumbers: true });
  await next();
});

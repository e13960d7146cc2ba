import jsonata from "jsonata";

/**
 * `Transform: {"Body": "<JSONata expression>"}`: the expression writes the request body
 * from the event. JSONata (https://docs.jsonata.org/) interprets its own syntax tree: no
 * `eval`, no `new Function`, which Workers refuse per request (test/integrations/templates.test.ts
 * runs it in the Workers pool).
 *
 * Input: the event as the portal sent it, `{Event, Message, Timestamp}`. Bound: `$eventId`
 * (the event's id, the `webhook-id` header), `$webhookId` (the channel's id) and
 * `$portalUrl` (the `PORTAL_URL` var, or undefined).
 */

/** At most this many bytes of expression (UTF-8). */
export const MAX_TRANSFORM_BYTES = 16 * 1024;

/**
 * Bounds on one evaluation. Workers' clock does not move while code computes (it moves
 * on I/O), so a time limit alone cannot be relied on there: the step budget, one step per
 * node evaluated, is the bound on time that holds everywhere. Each template's mapping
 * takes 60 to 400 steps (src/integrations/templates); 20,000 leaves room for real
 * mappings and stops a runaway loop early. The timeout binds where the clock does move.
 * Depth bounds recursion (JSONata's own `stack` option); `sequence` bounds a sequence's
 * length (`[1..10000000]`).
 */
export const TRANSFORM_LIMITS = { steps: 20_000, depth: 200, timeoutMs: 100, sequence: 10_000 } as const;

/** Why an expression cannot be compiled, with where: `at character 12: …`; null if it compiles. */
export function transformProblem(expression: string): string | null {
  if (new TextEncoder().encode(expression).byteLength > MAX_TRANSFORM_BYTES) return `must be at most ${MAX_TRANSFORM_BYTES} bytes`;
  if (!expression.trim()) return "must not be empty";
  try {
    jsonata(expression);
    return null;
  } catch (err) {
    return describe(err);
  }
}

type Compiled = ReturnType<typeof jsonata>;

/**
 * Compiled expressions, kept per isolate: keyed by the channel and the expression's text,
 * so a channel's expression is parsed once per isolate and version (a changed expression
 * is a new key), never per delivery.
 */
const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 500;

function compile(key: string, expression: string): Compiled {
  const cacheKey = `${key}\n${expression}`;
  let expr = compiled.get(cacheKey);
  if (!expr) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    expr = jsonata(expression, { stack: TRANSFORM_LIMITS.depth, timeout: TRANSFORM_LIMITS.timeoutMs, sequence: TRANSFORM_LIMITS.sequence });
    // One step per node evaluated; the count lives on the evaluation's own frame.
    const steps = new WeakMap<object, number>();
    expr.assign(Symbol.for("jsonata.__evaluate_entry") as unknown as string, (_node: unknown, _input: unknown, environment: { base: object }) => {
      const n = (steps.get(environment.base) ?? 0) + 1;
      steps.set(environment.base, n);
      if (n > TRANSFORM_LIMITS.steps) throw { code: "STEPS", message: `evaluation took more than ${TRANSFORM_LIMITS.steps} steps` };
    });
    compiled.set(cacheKey, expr);
  }
  return expr;
}

/** What a transform made of one event: the body to send, nothing to send, or why it failed. */
export type TransformResult = { ok: true; body: string } | { ok: true; body: null } | { ok: false; message: string };

/**
 * Evaluates the expression on the event (its JSON text, as stored). Never throws. The
 * result, serialized as JSON, is the body; `undefined` (the expression yields nothing) is
 * `body: null`: nothing to send.
 */
export async function runTransform(
  cacheKey: string,
  expression: string,
  eventJson: string,
  bindings: { eventId: string; webhookId: string; portalUrl?: string },
): Promise<TransformResult> {
  try {
    const result = await compile(cacheKey, expression).evaluate(JSON.parse(eventJson), {
      eventId: bindings.eventId,
      webhookId: bindings.webhookId,
      portalUrl: bindings.portalUrl,
    });
    if (result === undefined) return { ok: true, body: null };
    // A function is not data: JSON.stringify would drop it and send nothing meaningful.
    if (typeof result === "function" || (result && typeof result === "object" && "_jsonata_lambda" in result)) {
      return { ok: false, message: "the expression yields a function, not data" };
    }
    return { ok: true, body: JSON.stringify(result) };
  } catch (err) {
    return { ok: false, message: describe(err) };
  }
}

/** A JSONata error as one line: its code, where, and what. */
function describe(err: unknown): string {
  const e = err as { code?: string; position?: number; message?: string; token?: string; value?: unknown };
  if (e?.code === "D1011") return `expression nested deeper than ${TRANSFORM_LIMITS.depth} levels`;
  if (e?.code === "D1012") return `evaluation ran longer than ${TRANSFORM_LIMITS.timeoutMs} ms`;
  if (e?.code === "STEPS") return e.message!;
  const where = typeof e?.position === "number" ? `at character ${e.position}: ` : "";
  return `${where}${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ""}`;
}

/**
 * Payload filters (contract: Routing), Convoy's operator set on dotted paths of the event
 * as the portal sent it (`Event`, `Message`, `Timestamp`):
 *
 *   {"Message.OrgID": 7}                        equal (an array field: contains)
 *   {"Message": {"OrgID": {"$gte": 7}}}         a nested object stands for the same paths
 *   {"$or": [{"Event": "UserRegistered"}, …]}   $and / $or of filters
 *
 * Operators: $eq $neq $gt $gte $lt $lte (numbers, RFC 3339 times) $in $nin (arrays) $exist
 * (boolean). No regular expressions: evaluation is linear in the filter's size.
 *
 * `checkFilter` finds every problem with the path named; `compileFilter` turns a checked
 * filter into a function that never throws, whatever the event.
 */
export const MAX_FILTER_BYTES = 4096;
export const MAX_FILTER_DEPTH = 8;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Predicate = (event: unknown) => boolean;

const COMPARISONS = ["$gt", "$gte", "$lt", "$lte"] as const;
const OPERATORS = new Set(["$eq", "$neq", ...COMPARISONS, "$in", "$nin", "$exist"]);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const isOperatorObject = (v: unknown): v is Record<string, Json> => isObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"));

/** Every problem with a filter, each as [path, why]; the path starts at "Filter". */
export function checkFilter(filter: unknown): [string, string][] {
  const problems: [string, string][] = [];
  if (!isObject(filter)) return [["Filter", "must be an object (or null)"]];
  if (new TextEncoder().encode(JSON.stringify(filter)).length > MAX_FILTER_BYTES) return [["Filter", `must be at most ${MAX_FILTER_BYTES} bytes`]];
  const depth = (v: unknown): number =>
    isObject(v) ? 1 + Math.max(0, ...Object.values(v).map(depth)) : Array.isArray(v) ? 1 + Math.max(0, ...v.map(depth)) : 0;
  if (depth(filter) > MAX_FILTER_DEPTH) return [["Filter", `must be at most ${MAX_FILTER_DEPTH} levels deep`]];
  checkNode(filter, "Filter", problems);
  return problems;
}

/** A filter object: paths (dotted, or nested objects) and $and / $or. */
function checkNode(node: Record<string, Json>, at: string, problems: [string, string][]) {
  // An empty object has no condition to fail: it matches every event, as null does.
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}.${key}`;
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(value) || value.length === 0) problems.push([here, `${key} needs a non-empty array of filters`]);
      else {
        value.forEach((f, i) => {
          if (isObject(f)) checkNode(f, `${here}.${i}`, problems);
          else problems.push([`${here}.${i}`, "must be a filter object"]);
        });
      }
    } else if (key.startsWith("$")) {
      problems.push([here, `${key} must be inside a field's condition (${[...OPERATORS].join(", ")}), or be $and or $or`]);
    } else if (key === "" || key.split(".").some((part) => part === "")) {
      problems.push([here, "must be a dotted path like Message.OrgID"]);
    } else if (isOperatorObject(value)) {
      checkCondition(value, here, problems);
    } else if (isObject(value)) {
      if (Object.keys(value).some((k) => k.startsWith("$"))) problems.push([here, "must hold either operators or fields, not both"]);
      else checkNode(value, here, problems);
    }
    // Anything else is a plain value: equal.
  }
}

function checkCondition(condition: Record<string, Json>, at: string, problems: [string, string][]) {
  for (const [op, operand] of Object.entries(condition)) {
    if (!OPERATORS.has(op)) problems.push([at, `${op} is not an operator (${[...OPERATORS].join(", ")})`]);
    else if ((COMPARISONS as readonly string[]).includes(op) && !(typeof operand === "number" || (typeof operand === "string" && RFC3339.test(operand)))) {
      problems.push([at, `${op} needs a number or an RFC 3339 time`]);
    } else if ((op === "$in" || op === "$nin") && !Array.isArray(operand)) problems.push([at, `${op} needs an array`]);
    else if (op === "$exist" && typeof operand !== "boolean") problems.push([at, "$exist needs true or false"]);
  }
}

/** The filter as a function of the event; call only on a filter `checkFilter` accepted. */
export function compileFilter(filter: Record<string, Json>): Predicate {
  const test = compileNode(filter, []);
  return (event) => {
    try {
      return test(event);
    } catch {
      return false;
    }
  };
}

function compileNode(node: Record<string, Json>, prefix: string[]): Predicate {
  const parts: Predicate[] = Object.entries(node).map(([key, value]) => {
    if (key === "$and") return all((value as Record<string, Json>[]).map((f) => compileNode(f, prefix)));
    if (key === "$or") return any((value as Record<string, Json>[]).map((f) => compileNode(f, prefix)));
    const path = [...prefix, ...key.split(".")];
    if (isOperatorObject(value)) return compileCondition(path, value);
    if (isObject(value)) return compileNode(value, path);
    return (event) => equals(read(event, path), value);
  });
  return all(parts);
}

function compileCondition(path: string[], condition: Record<string, Json>): Predicate {
  return all(
    Object.entries(condition).map(([op, operand]): Predicate => {
      switch (op) {
        case "$eq":
          return (e) => equals(read(e, path), operand);
        case "$neq":
          return (e) => !equals(read(e, path), operand);
        case "$in":
          return (e) => (operand as Json[]).some((v) => equals(read(e, path), v));
        case "$nin":
          return (e) => !(operand as Json[]).some((v) => equals(read(e, path), v));
        case "$exist":
          return (e) => (read(e, path) !== undefined) === operand;
        default:
          return (e) => compare(read(e, path), op as (typeof COMPARISONS)[number], operand as number | string);
      }
    }),
  );
}

const all =
  (ps: Predicate[]): Predicate =>
  (e) =>
    ps.every((p) => p(e));
const any =
  (ps: Predicate[]): Predicate =>
  (e) =>
    ps.some((p) => p(e));

/** The value at a path, or undefined; own properties only. */
function read(value: unknown, path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (!isObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** Equal, as JSON; a field that is an array matches a value it contains. */
function equals(field: unknown, value: Json): boolean {
  if (Array.isArray(field) && !Array.isArray(value)) return field.some((item) => same(item, value));
  return same(field, value);
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Numbers with numbers, RFC 3339 times with times; anything else does not match. */
function compare(field: unknown, op: (typeof COMPARISONS)[number], operand: number | string): boolean {
  let x: number;
  let y: number;
  if (typeof operand === "number") {
    if (typeof field !== "number") return false;
    [x, y] = [field, operand];
  } else {
    if (typeof field !== "string" || !RFC3339.test(field)) return false;
    [x, y] = [Date.parse(field), Date.parse(operand)];
  }
  if (Number.isNaN(x) || Number.isNaN(y)) return false;
  return op === "$gt" ? x > y : op === "$gte" ? x >= y : op === "$lt" ? x < y : x <= y;
}

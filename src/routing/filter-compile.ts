// Evaluating a checked filter: the filter as a function of the event that never throws.
import { EventIndex, ValueSet } from "./event-index";
import { type COMPARISONS, isObject, isOperatorObject, type Json } from "./filter-syntax";

/** A compiled filter: whether the event passes; `index` shares work between filters of one event. */
export type Predicate = (event: unknown, index?: EventIndex) => boolean;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/**
 * The filter as a function of the event; call only on a filter `checkFilter` accepted.
 * Pass the event's `EventIndex` when several filters judge one event (intake): what one
 * filter learnt of an array field is then not worked out again by the next.
 */
export function compileFilter(filter: Record<string, Json>): Predicate {
  const test = compileNode(filter, []);
  return (event, index = new EventIndex()) => {
    try {
      return test(event, index);
    } catch {
      return false;
    }
  };
}

type Test = (event: unknown, index: EventIndex) => boolean;

function compileNode(node: Record<string, Json>, prefix: string[]): Test {
  const parts: Test[] = Object.entries(node).map(([key, value]) => {
    if (key === "$and") return all((value as Record<string, Json>[]).map((f) => compileNode(f, prefix)));
    if (key === "$or") return any((value as Record<string, Json>[]).map((f) => compileNode(f, prefix)));
    const path = [...prefix, ...key.split(".")];
    if (isOperatorObject(value)) return compileCondition(path, value);
    if (isObject(value)) return compileNode(value, path);
    const is = new ValueSet([value]);
    return (e, index) => is.holds(read(e, path), index);
  });
  return all(parts);
}

function compileCondition(path: string[], condition: Record<string, Json>): Test {
  return all(
    Object.entries(condition).map(([op, operand]): Test => {
      switch (op) {
        case "$eq":
        case "$neq":
        case "$in":
        case "$nin": {
          const values = new ValueSet(op === "$eq" || op === "$neq" ? [operand] : (operand as Json[]));
          const negate = op === "$neq" || op === "$nin";
          return (e, index) => values.holds(read(e, path), index) !== negate;
        }
        case "$exist":
          return (e) => (read(e, path) !== undefined) === operand;
        default:
          return (e) => compare(read(e, path), op as (typeof COMPARISONS)[number], operand as number | string);
      }
    }),
  );
}

const all =
  (ps: Test[]): Test =>
  (e, index) =>
    ps.every((p) => p(e, index));
const any =
  (ps: Test[]): Test =>
  (e, index) =>
    ps.some((p) => p(e, index));

/** The value at a path, or undefined; own properties only. */
function read(value: unknown, path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (!isObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
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

/**
 * Payload filters (contract: Routing), Convoy's operator set on dotted paths of the event
 * as the portal sent it (`Event`, `Message`, `Timestamp`):
 *
 *   {"Message.OrgID": 7}                        equal (an array field: contains)
 *   {"Message": {"OrgID": {"$gte": 7}}}         a nested object stands for the same paths
 *   {"$or": [{"Event": "UserRegistered"}, …]}   $and / $or of filters
 *
 * Operators: $eq $neq $gt $gte $lt $lte (numbers, RFC 3339 times) $in $nin (arrays) $exist
 * (boolean). No regular expressions, and judging an event is linear in the sizes of the event
 * and the filter (see `EventIndex`).
 *
 * `checkFilter` finds every problem with the path named; `compileFilter` turns a checked
 * filter into a function that never throws, whatever the event.
 */
import { isRfc3339 } from "../http/rfc3339";

export const MAX_FILTER_BYTES = 4096;
export const MAX_FILTER_DEPTH = 8;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A compiled filter: whether the event passes; `index` shares work between filters of one event. */
export type Predicate = (event: unknown, index?: EventIndex) => boolean;

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
    // A time operand must exist (src/http/rfc3339.ts): `2024-02-31` would compare as 2 March.
    else if ((COMPARISONS as readonly string[]).includes(op) && !(typeof operand === "number" || (typeof operand === "string" && isRfc3339(operand)))) {
      problems.push([at, `${op} needs a number or an RFC 3339 time`]);
    } else if ((op === "$in" || op === "$nin") && !Array.isArray(operand)) problems.push([at, `${op} needs an array`]);
    else if (op === "$exist" && typeof operand !== "boolean") problems.push([at, "$exist needs true or false"]);
  }
}

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

/**
 * What one event costs its filters, shared by every filter that judges it. Judging is
 * bounded by construction: each array of the event is indexed at most once (a Set of its
 * items), each object or array is written as a canonical key at most once, and a filter's
 * condition then costs lookups in proportion to its own operands. So the work for an event
 * is O(event size + the filters' sizes), never their product (a 2,035-value `$in` against a
 * 131,000-item array once took 2.7 × 10⁸ comparisons per channel).
 *
 * `work` counts the units spent (items indexed, nodes keyed, lookups), for tests to bound.
 */
export class EventIndex {
  work = 0;
  private readonly items = new WeakMap<readonly unknown[], Items>();
  private readonly keys = new WeakMap<object, string>();

  /** The items of an array field, as Sets: scalars as themselves, objects and arrays by key. */
  itemsOf(array: readonly unknown[]): Items {
    let items = this.items.get(array);
    if (!items) {
      items = { scalars: new Set(), composites: new Set() };
      for (const item of array) {
        this.work++;
        if (typeof item === "object" && item !== null) items.composites.add(this.keyOf(item));
        else items.scalars.add(item);
      }
      this.items.set(array, items);
    }
    return items;
  }

  /** A canonical key for an object or array: equal as JSON (keys in any order) ⇔ equal key. */
  keyOf(value: object): string {
    let key = this.keys.get(value);
    if (key === undefined) {
      key = canonicalKey(
        value,
        (v) => this.keyOf(v),
        () => this.work++,
      );
      this.keys.set(value, key);
    }
    return key;
  }
}

interface Items {
  scalars: Set<unknown>;
  composites: Set<string>;
}

function canonicalKey(value: object, keyOf: (v: object) => string, count: () => void): string {
  count();
  const key = (v: unknown) => (typeof v === "object" && v !== null ? keyOf(v) : JSON.stringify(v));
  if (Array.isArray(value)) return `[${value.map(key).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${key(record[k])}`)
    .join(",")}}`;
}

/**
 * The operand values of `$eq`/`$in` (and of their negations) as Sets, so a field is looked
 * up, not compared with each value. Equal means equal as JSON; a field that is an array
 * matches a non-array value it contains, or an array value equal to it as a whole.
 */
class ValueSet {
  private readonly scalars = new Set<unknown>();
  private readonly objects = new Set<string>();
  private readonly arrays = new Set<string>();
  private readonly keyer = new EventIndex();

  constructor(values: readonly Json[]) {
    for (const v of values) {
      if (Array.isArray(v)) this.arrays.add(this.keyer.keyOf(v));
      else if (typeof v === "object" && v !== null) this.objects.add(this.keyer.keyOf(v));
      else this.scalars.add(v);
    }
  }

  holds(field: unknown, index: EventIndex): boolean {
    index.work++;
    if (field === undefined) return false;
    if (typeof field !== "object" || field === null) return this.scalars.has(field);
    if (!Array.isArray(field)) return this.objects.size > 0 && this.objects.has(index.keyOf(field));
    if (this.arrays.size && this.arrays.has(index.keyOf(field))) return true;
    if (!this.scalars.size && !this.objects.size) return false;
    const items = index.itemsOf(field);
    return intersects(this.scalars, items.scalars, index) || intersects(this.objects, items.composites, index);
  }
}

/** Whether two Sets share a member, looking up the smaller's members in the larger. */
function intersects<T>(a: Set<T>, b: Set<T>, index: EventIndex): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const v of small) {
    index.work++;
    if (large.has(v)) return true;
  }
  return false;
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

// Checking a filter before it is stored: its size and depth, then every problem with the path named.
import { isRfc3339 } from "../http/rfc3339";
import { COMPARISONS, isObject, isOperatorObject, type Json, OPERATORS } from "./filter-syntax";

export const MAX_FILTER_BYTES = 4096;
export const MAX_FILTER_DEPTH = 8;

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

// A filter's vocabulary, shared by checking and compiling: its JSON, its operators, and how a field's condition is told from nested fields.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const COMPARISONS = ["$gt", "$gte", "$lt", "$lte"] as const;
export const OPERATORS = new Set(["$eq", "$neq", ...COMPARISONS, "$in", "$nin", "$exist"]);

export const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
export const isOperatorObject = (v: unknown): v is Record<string, Json> =>
  isObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"));

import { ApiError } from "../core/errors";
import type { Window } from "../db/payload-search";

/** The window of receipt times a payload search reads (`since`/`until`, query or body), with its default and its bound. */

const HOUR_MS = 3_600_000;
/** The window a search reads when `since` is not given, back from `until` (or now). */
export const DEFAULT_SEARCH_MS = 24 * HOUR_MS;
/** The widest window a search may read: 31 days. */
export const MAX_SEARCH_MS = 31 * 24 * HOUR_MS;
/** The longest text searched for, in characters. */
export const MAX_QUERY_CHARS = 200;

/**
 * The window a search reads: `until` defaults to now, `since` to 24 h before `until`; at
 * most 31 days. `field` prefixes the errors (`since` for a query, `Since` for a body).
 */
export function searchWindow(since: string | undefined, until: string | undefined, now = Date.now(), names = { since: "since", until: "until" }): Window {
  const end = until === undefined ? now : Date.parse(until);
  const start = since === undefined ? end - DEFAULT_SEARCH_MS : Date.parse(since);
  if (start >= end) throw ApiError.invalid(names.since, `must be before ${names.until}`);
  if (end - start > MAX_SEARCH_MS) throw ApiError.invalid(names.since, `the window is at most 31 days (${names.since} to ${names.until})`);
  return { since: start, until: end };
}

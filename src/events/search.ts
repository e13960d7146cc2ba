import { and, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { idFloor } from "../db/ids";
import { typesWithEvents } from "../db/partitions";
import { events } from "../db/schema";
import { ApiError } from "../errors";
import { type EventColumns, newestEvents } from "./queries";

/*
 * Finding events by what they say (contract: `GET /portal-api/events?q=`): a
 * case-insensitive substring of the payload as the portal sent it, within a window of
 * receipt times. No index: the window is a range of each type's primary key (ids are
 * UUIDv7s, src/db/ids.ts), read newest first and tested with LIKE until the page is full.
 * A search that matches often stops early; one that matches nothing reads the whole
 * window. Measured on 1,000,000 events (`npm run bench:stats`, docs/capacity.md, "Search").
 */

const HOUR_MS = 3_600_000;
/** The window a search reads when `since` is not given, back from `until` (or now). */
export const DEFAULT_SEARCH_MS = 24 * HOUR_MS;
/** The widest window a search may read: 31 days. */
export const MAX_SEARCH_MS = 31 * 24 * HOUR_MS;
/** The longest text searched for, in characters. */
export const MAX_QUERY_CHARS = 200;

/** A search window, unix ms: [since, until). */
export interface Window {
  since: number;
  until: number;
}

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

/**
 * The LIKE pattern for "contains `text`", with LIKE's own `%`, `_` and the escape `\`
 * escaped. SQLite's LIKE ignores case for ASCII letters (https://sqlite.org/lang_expr.html#like);
 * other letters match as they are written (SQLite without ICU folds ASCII only, as `lower()` does).
 */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The condition "the event's payload contains `text`, in any case, or its ID is `text`"
 * on `table` (events or an alias of it).
 */
export function payloadContains(text: string, table: Record<"id" | "body", SQLiteColumn> = events): SQL {
  return or(sql`${table.body} like ${containsPattern(text)} escape '\\'`, eq(table.id, text.trim().toLowerCase()))!;
}

/**
 * Events whose payload contains `text` (any, when undefined), received in `window` (either
 * bound may be open when there is no `text`), newest first, from just below
 * `before` (a list cursor's id) and past `offset` rows, `limit` of them. Each type gives its
 * newest matches, as many as the page needs (a range of its key, read backwards), and
 * those are merged, as `listEvents` does.
 */
export function searchEvents(
  db: Db,
  text: string | undefined,
  window: Partial<Window>,
  type: string | undefined,
  before: string | undefined,
  offset: number,
  limit: number,
) {
  const inWindow = (table: EventColumns) =>
    and(
      window.since === undefined ? undefined : gte(table.id, idFloor(window.since)),
      window.until === undefined ? undefined : lt(table.id, idFloor(window.until)),
      before ? lt(table.id, before) : undefined,
      text === undefined ? undefined : payloadContains(text, table),
    );
  return newestEvents(db, type, inWindow, offset, limit);
}

/**
 * SQL: the delivery (the `event_id` column, as written, of the table or alias named
 * `table`) is of an event whose payload contains `text`, received in `window` (open
 * bounds allowed). The matching events are found once per statement (a non-correlated
 * subquery: each type's key range of the window, read with LIKE), and each delivery is
 * checked against that list: a delivery's id carries its event's time (src/db/ids.ts), so
 * the deliveries of a window are of the events of the same window.
 */
export function ofEventContaining(text: string, table: string, window: Partial<Window>): SQL {
  const inWindow = and(
    window.since === undefined ? undefined : sql`qe.id >= ${idFloor(window.since)}`,
    window.until === undefined ? undefined : sql`qe.id < ${idFloor(window.until)}`,
  );
  return sql`${sql.raw(`${table}.event_id`)} in (select qe.id from events as qe where qe.type in ${typesWithEvents} ${inWindow ? sql`and ${inWindow}` : sql``}
    and (qe.body like ${containsPattern(text)} escape '\\' or qe.id = ${text.trim().toLowerCase()}))`;
}

import { and, eq, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { idFloor } from "./ids";
import { typesWithEvents } from "./partitions";
import { events } from "./schema";

/*
 * Finding events by what they say (contract: `GET /portal-api/events?q=`): a
 * case-insensitive substring of the payload as the portal sent it, within a window of
 * receipt times. No index: the window is a range of each type's primary key (ids are
 * UUIDv7s, src/db/ids.ts), read newest first and tested with LIKE until the page is full.
 * A search that matches often stops early; one that matches nothing reads the whole
 * window. Measured on 1,000,000 events (`npm run bench:stats`, docs/capacity.md, "Search").
 */

/** A search window, unix ms: [since, until) (src/http/search-window.ts decides it). */
export interface Window {
  since: number;
  until: number;
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

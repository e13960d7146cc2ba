import { and, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import { alias, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { typesWithEvents } from "./partitions";
import { events } from "./schema";

/*
 * Reading events newest first, as every list of them does: the events API, its search,
 * and the previews that take the newest event of a type. Events are keyed by (type, id),
 * ids in time order (src/db/ids.ts).
 */

/**
 * Events newest first. One type's are its key range read backwards; across types, each
 * type gives its newest, as many as the page needs, and those are merged. A query, to
 * await or to put in a batch. `before` (a list cursor's id) starts the list just below
 * it; `lookahead` reads that many rows past the page (one tells whether more follow).
 */
export function listEvents(db: Db, type: string | undefined, page: number, perPage: number, before?: string, lookahead = 0) {
  return newestEvents(db, type, (table) => (before ? lt(table.id, before) : undefined), (page - 1) * perPage, perPage + lookahead);
}

/** The columns a condition on events may use, of the table or of an alias of it. */
export type EventColumns = Record<"id" | "type" | "body", SQLiteColumn>;

/**
 * Events of `type` (or of every type) that `where` lets through, newest first, `limit` of
 * them past `offset`. `where` is given the table to judge (the events table, or its
 * alias inside the merge). Across types, each type gives its newest matches, as many as
 * the page needs (a range of its key, read backwards), and those are merged: no type's
 * events are read past what the page shows.
 */
export function newestEvents(db: Db, type: string | undefined, where: (table: EventColumns) => SQL | undefined, offset: number, limit: number) {
  const columns = { id: events.id, type: events.type, body: events.body, receivedAt: events.receivedAt };
  if (type)
    return db
      .select(columns)
      .from(events)
      .where(and(eq(events.type, type), where(events)))
      .orderBy(desc(events.id))
      .limit(limit)
      .offset(offset);
  const newest = alias(events, "newest");
  const newestOfType = db
    .select({ id: newest.id })
    .from(newest)
    .where(and(sql`${newest.type} = k.v`, where(newest)))
    .orderBy(desc(newest.id))
    .limit(offset + limit);
  return (
    db
      .select(columns)
      // A cross join keeps the types the outer loop: each one's newest, then their rows.
      .from(sql`${typesWithEvents} as k`)
      .crossJoin(events)
      .where(and(sql`${events.type} = k.v`, inArray(events.id, newestOfType)))
      .orderBy(desc(events.id))
      .limit(limit)
      .offset(offset)
  );
}

/** The event with this id, found by its id alone: a look in each type's key range (a condition on `events`). */
export const isEvent = (id: string) => and(inArray(events.type, typesWithEvents), eq(events.id, id));

/** The event with this id, if stored: a query of its id (no row if not), to await or to batch. */
export const storedEvent = (db: Db, id: string) => db.select({ id: events.id }).from(events).where(isEvent(id));

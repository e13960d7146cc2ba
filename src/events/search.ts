import { and, gte, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { idFloor } from "../db/ids";
import { type EventColumns, newestEvents } from "../db/newest-events";
import { payloadContains, type Window } from "../db/payload-search";

/** The events list's search (`GET /portal-api/events?q=`); how a payload is matched is in src/db/payload-search.ts. */

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

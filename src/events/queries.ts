import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { channelsWithDeliveries, typesWithEvents } from "../db/partitions";
import { channels, deliveries, events } from "../db/schema";
import { deliveryChannel, deliveryListFields, ofEvent } from "../delivery/queries";

/** The admin API's reads of events. Events are keyed by (type, id), ids in time order. */

/**
 * Events newest first. One type's are its key range read backwards; across types, each
 * type gives its newest, as many as the page needs, and those are merged. A query, to
 * await or to put in a batch.
 */
export function listEvents(db: Db, type: string | undefined, page: number, perPage: number) {
  const offset = (page - 1) * perPage;
  if (type) return db.select().from(events).where(eq(events.type, type)).orderBy(desc(events.id)).limit(perPage).offset(offset);
  const newest = alias(events, "newest");
  const newestOfType = db
    .select({ id: newest.id })
    .from(newest)
    .where(sql`${newest.type} = k.v`)
    .orderBy(desc(newest.id))
    .limit(offset + perPage);
  return (
    db
      .select({ id: events.id, type: events.type, body: events.body, receivedAt: events.receivedAt })
      // A cross join keeps the types the outer loop: each one's newest, then their rows.
      .from(sql`${typesWithEvents} as k`)
      .crossJoin(events)
      .where(and(sql`${events.type} = k.v`, inArray(events.id, newestOfType)))
      .orderBy(desc(events.id))
      .limit(perPage)
      .offset(offset)
  );
}

/** An event by its id alone, and its deliveries: a look in each type's, then each channel's, key range. */
export async function findEvent(db: Db, id: string) {
  const [found, itsDeliveries] = await db.batch([
    db
      .select()
      .from(events)
      .where(and(inArray(events.type, typesWithEvents), eq(events.id, id))),
    db
      .select(deliveryListFields)
      .from(deliveries)
      .leftJoin(channels, deliveryChannel)
      .where(and(inArray(deliveries.channelId, channelsWithDeliveries), ofEvent(id)))
      .orderBy(asc(deliveries.id)),
  ]);
  const event = found[0];
  return event ? { event, deliveries: itsDeliveries } : undefined;
}

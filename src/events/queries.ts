import { and, asc, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { isEvent } from "../db/newest-events";
import { channelsWithDeliveries } from "../db/partitions";
import { channels, deliveries, events } from "../db/schema";
import { deliveryChannel, deliveryListFields, ofEvent } from "../delivery-api/queries";

/** The admin API's reads of events. Events are keyed by (type, id), ids in time order. */

/** An event by its id alone, and its deliveries: a look in each type's, then each channel's, key range. */
export async function findEvent(db: Db, id: string) {
  const [found, itsDeliveries] = await db.batch([
    db.select().from(events).where(isEvent(id)),
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

import { and, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { channels, type DeliveryStatus, deliveries } from "../db/schema";
import { deliveryChannel, deliveryListFields } from "./queries";

/** What an admin can narrow the deliveries of every channel down to. */
export interface DeliverySearch {
  status?: DeliveryStatus;
  webhookId?: string;
  eventType?: string;
  eventId?: string;
  /** Creation time bounds, unix ms: [since, until). */
  since?: number;
  until?: number;
}

function matching(search: DeliverySearch): SQL | undefined {
  return and(
    search.status ? eq(deliveries.status, search.status) : undefined,
    search.webhookId ? eq(deliveries.channelId, search.webhookId) : undefined,
    search.eventType ? eq(deliveries.eventType, search.eventType) : undefined,
    search.eventId ? eq(deliveries.eventId, search.eventId) : undefined,
    search.since !== undefined ? gte(deliveries.createdAt, search.since) : undefined,
    search.until !== undefined ? lt(deliveries.createdAt, search.until) : undefined,
  );
}

/**
 * Deliveries of every channel, newest first. Rows are stored in the order they were
 * created, so newest first is the table read backwards (no index to sort over every
 * delivery); within one channel its (channel, created) index gives the same order.
 */
export async function searchDeliveries(db: Db, search: DeliverySearch, page: number, perPage: number) {
  const order = search.webhookId ? [desc(deliveries.createdAt), sql`deliveries.rowid desc`] : [sql`deliveries.rowid desc`];
  return db
    .select(deliveryListFields)
    .from(deliveries)
    .leftJoin(channels, deliveryChannel)
    .where(matching(search))
    .orderBy(...order)
    .limit(perPage)
    .offset((page - 1) * perPage);
}

/**
 * The failed deliveries a bulk recover may send again: those matching the search whose
 * channel still exists, is enabled and still subscribes to their type.
 */
export function recoverable(search: Omit<DeliverySearch, "status">): SQL | undefined {
  return and(
    eq(deliveries.status, "failed"),
    matching(search),
    // Spelled out: drizzle writes columns in sql fragments unqualified.
    sql`exists (select 1 from channel_events as ce join channels as c on c.id = ce.channel_id
                where ce.channel_id = deliveries.channel_id and ce.event_type = deliveries.event_type and c.enabled = 1)`,
  );
}

export async function countDeliveries(db: Db, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(deliveries).where(where);
  return row?.n ?? 0;
}

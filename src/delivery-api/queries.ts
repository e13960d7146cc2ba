import { and, desc, eq, getTableColumns, gt, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { DeliveryStatus } from "../db/delivery-state";
import { idFloor, sameMillisecondAs } from "../db/ids";
import { channelsWithDeliveries } from "../db/partitions";
import { channels, deliveries } from "../db/schema";
import { countBulk } from "../stats/counters";

/** The admin API's reads and bulk changes of deliveries, with drizzle. */

/** A delivery's columns but its attempt log, which only the delivery's own page reads. */
export const deliverySummary = (({ attempts, ...columns }) => columns)(getTableColumns(deliveries));
export type DeliveryRow = Omit<typeof deliveries.$inferSelect, "attempts">;

/**
 * What a list of deliveries shows beside each one: its channel's name (kept after a
 * delete), whether a redeliver can work, and its last attempt. Select with
 * `.leftJoin(channels, deliveryChannel)`.
 */
export const deliveryListFields = {
  ...deliverySummary,
  webhookName: sql<string | null>`coalesce(channels.name, (select name from deleted_channels where id = deliveries.channel_id))`,
  webhookDeleted: sql<number>`channels.id is null`,
  // A held delivery waits for its channel's resume: sending it again now would only hold it again.
  canRedeliver: sql<number>`coalesce(channels.enabled = 1 and deliveries.status <> 'held' and exists (select 1 from channel_events as ce
                   where ce.channel_id = deliveries.channel_id and ce.event_type = deliveries.event_type), 0)`,
  lastAttemptAt: sql<number | null>`deliveries.attempts->>'$[#-1].startedAt'`,
  lastDurationMs: sql<number | null>`deliveries.attempts->>'$[#-1].durationMs'`,
};
export const deliveryChannel = eq(channels.id, deliveries.channelId);
export type ListedDelivery = DeliveryRow & {
  webhookName?: string | null;
  webhookDeleted?: number;
  canRedeliver?: number;
  lastAttemptAt?: number | null;
  lastDurationMs?: number | null;
};

/**
 * A channel's deliveries, newest first: its range of the primary key, read backwards,
 * from just below `before` (a cursor's id) when given, past `offset` rows.
 */
export async function listChannelDeliveries(
  db: Db,
  channelId: string,
  status: DeliveryStatus | undefined,
  before: string | undefined,
  offset: number,
  limit: number,
) {
  return db
    .select(deliveryListFields)
    .from(deliveries)
    .leftJoin(channels, deliveryChannel)
    .where(and(eq(deliveries.channelId, channelId), before ? lt(deliveries.id, before) : undefined, status ? eq(deliveries.status, status) : undefined))
    .orderBy(desc(deliveries.id))
    .limit(limit)
    .offset(offset);
}

/** A delivery by its id alone: a look in each channel's part of the primary key. */
export async function findDelivery(db: Db, id: string) {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(and(inArray(deliveries.channelId, channelsWithDeliveries), eq(deliveries.id, id)));
  return row;
}

/**
 * Starts a new run for deliveries an admin asked to send again: back to `pending`, a fresh
 * retry schedule, due now, in a new generation. Returns them as they now are.
 */
export async function restartDeliveries(db: Db, where: ReturnType<typeof and>, now: number): Promise<DeliveryRow[]> {
  const [, restarted] = await db.batch([
    // They leave the counts of the status they ended in.
    countBulk(db, where, "restart"),
    db
      .update(deliveries)
      .set({
        status: "pending",
        retryBase: sql`${deliveries.attemptCount}`,
        generation: sql`${deliveries.generation} + 1`,
        reclaims: 0,
        nextAttemptAt: now,
        updatedAt: now,
      })
      .where(where)
      .returning(deliverySummary),
  ]);
  return restarted;
}

/** A channel's failed deliveries created since a time, of the types it still subscribes to. */
export const failedSince = (channelId: string, since: number, subscribed: string[]) =>
  and(eq(deliveries.channelId, channelId), gte(deliveries.id, idFloor(since)), eq(deliveries.status, "failed"), inArray(deliveries.eventType, subscribed));

/**
 * An event's deliveries, by what the event's id says: they were created in its
 * millisecond (src/db/ids.ts). Beside a channel condition, a range of each channel's key.
 */
export function ofEvent(eventId: string) {
  const { after, before } = sameMillisecondAs(eventId);
  return and(gt(deliveries.id, after), lt(deliveries.id, before), eq(deliveries.eventId, eventId));
}

export const deliveryByKey = (key: { channelId: string; id: string }) => and(eq(deliveries.channelId, key.channelId), eq(deliveries.id, key.id));

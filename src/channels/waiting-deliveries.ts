import { and, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { LIVE_STATUSES } from "../db/delivery-state";
import { sqlLane } from "../db/lanes";
import { deliveries } from "../db/schema";

/*
 * What a change to a channel does to its waiting deliveries, as statements for the
 * change's own D1 batch (src/channels/store.ts): pause's other half, the release on
 * resume (oldest first, in a new generation), and what a new Ordering or a cancelled
 * type does to the deliveries waiting in lanes. Held at intake and when due: `triage` in
 * src/delivery/decide.ts.
 */

const LIVE_BODY = "(select e.body from events as e where e.type = deliveries.event_type and e.id = deliveries.event_id)";

/** The lanes of the channel's live deliveries under its Ordering as now stored (src/flow/lanes.ts). */
export function relane(db: Db, channelId: string) {
  return db
    .update(deliveries)
    .set({ lane: sql.raw(`(select ${sqlLane("c", LIVE_BODY)} from channels as c where c.id = deliveries.channel_id)`) })
    .where(liveOf(channelId));
}

/** Live deliveries with no queue message (waiting behind a lane's head, not held): due now, in a new generation. */
export function releaseWaiting(db: Db, channelId: string, now: number) {
  return db
    .update(deliveries)
    .set({ nextAttemptAt: now, generation: sql`${deliveries.generation} + 1`, reclaims: 0, updatedAt: now })
    .where(and(eq(deliveries.channelId, channelId), inArray(deliveries.status, ["pending", "retrying"]), isNull(deliveries.nextAttemptAt)))
    .returning({ channelId: deliveries.channelId, id: deliveries.id, generation: deliveries.generation });
}

/** A resumed channel's held deliveries, due now, in a new generation. */
export function releaseHeld(db: Db, channelId: string, now: number) {
  return db
    .update(deliveries)
    .set({ status: "pending", nextAttemptAt: now, generation: sql`${deliveries.generation} + 1`, reclaims: 0, updatedAt: now })
    .where(heldOf(channelId))
    .returning({ channelId: deliveries.channelId, id: deliveries.id, generation: deliveries.generation });
}

const heldOf = (channelId: string) => and(eq(deliveries.channelId, channelId), eq(deliveries.status, "held"));
export const liveOf = (channelId: string) => and(eq(deliveries.channelId, channelId), inArray(deliveries.status, [...LIVE_STATUSES]));
export const unsubscribedLive = (channelId: string, events: string[]) => and(liveOf(channelId), notInArray(deliveries.eventType, events));

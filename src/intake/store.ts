import { and, eq, inArray, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { channelEvents, channels, deliveries, eventKeys, events } from "../db/schema";

export const DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface NewEvent {
  id: string;
  type: string;
  body: string;
  /** Dedupe keys: the body's hash, and the Idempotency-Key when one was sent. */
  keys: string[];
  receivedAt: number;
}

export type Recorded =
  | { duplicate: false; deliveryIds: string[] }
  | { duplicate: true; eventId: string; deliveries: number };

/**
 * Stores the event and one pending delivery per enabled subscribed channel in a single D1
 * batch (one round trip, one transaction). The channel lookup runs inside the INSERT, so
 * its cost does not grow with the number of channels. A dedupe key already held by another
 * event fails the whole transaction, and nothing is written.
 */
export async function recordEvent(db: Db, event: NewEvent): Promise<Recorded> {
  const now = event.receivedAt;
  try {
    const [, , , created] = await db.batch([
      db.delete(eventKeys).where(and(inArray(eventKeys.key, event.keys), lte(eventKeys.expiresAt, now))),
      db.insert(eventKeys).values(event.keys.map((key) => ({ key, eventId: event.id, expiresAt: now + DEDUPE_WINDOW_MS }))),
      db.insert(events).values({ id: event.id, type: event.type, body: event.body, receivedAt: now }),
      db
        .insert(deliveries)
        .select(
          db
            .select({
              id: sql<string>`lower(hex(randomblob(16)))`.as("id"),
              eventId: sql<string>`${event.id}`.as("event_id"),
              channelId: channelEvents.channelId,
              eventType: channelEvents.eventType,
              status: sql<"pending">`'pending'`.as("status"),
              attemptCount: sql<number>`0`.as("attempt_count"),
              retryBase: sql<number>`0`.as("retry_base"),
              generation: sql<number>`0`.as("generation"),
              nextAttemptAt: sql<number>`${now}`.as("next_attempt_at"),
              lastStatusCode: sql<null>`null`.as("last_status_code"),
              lastError: sql<null>`null`.as("last_error"),
              createdAt: sql<number>`${now}`.as("created_at"),
              updatedAt: sql<number>`${now}`.as("updated_at"),
            })
            .from(channelEvents)
            .innerJoin(channels, eq(channels.id, channelEvents.channelId))
            .where(and(eq(channelEvents.eventType, event.type), eq(channels.enabled, true))),
        )
        .returning({ id: deliveries.id }),
    ]);
    return { duplicate: false, deliveryIds: created.map((d) => d.id) };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const original = await findByKeys(db, event.keys, now);
    if (!original) throw err;
    return { duplicate: true, ...original };
  }
}

async function findByKeys(db: Db, keys: string[], now: number) {
  const [row] = await db
    .select({
      eventId: eventKeys.eventId,
      // Spelled out: drizzle leaves columns in sql`` unqualified, and both tables have event_id.
      deliveries: sql<number>`(select count(*) from deliveries where deliveries.event_id = event_keys.event_id)`,
    })
    .from(eventKeys)
    .where(and(inArray(eventKeys.key, keys), sql`${eventKeys.expiresAt} > ${now}`))
    .limit(1);
  return row;
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message.includes("UNIQUE constraint failed")) return true;
  }
  return false;
}

import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { NotFound } from "../core/errors";
import type { Db } from "../db/client";
import { channelEvents, channelHeaders, channels, deliveries } from "../db/schema";
import { type EventType, eventTypes } from "../portal/catalog";

/** Reading channels: one, or a page of them with each one's newest delivery. The writes are in ./store.ts. */

export type ChannelRow = typeof channels.$inferSelect;
export type HeaderRow = typeof channelHeaders.$inferSelect;

/** A channel row with its subscriptions and (still encrypted) headers. */
export interface ChannelRecord {
  row: ChannelRow;
  events: EventType[];
  headers: HeaderRow[];
}

export const catalogOrder = (a: string, b: string) => eventTypes.indexOf(a as EventType) - eventTypes.indexOf(b as EventType);

function assemble(rows: ChannelRow[], events: { channelId: string; eventType: string }[], headers: HeaderRow[]): ChannelRecord[] {
  return rows.map((row) => ({
    row,
    events: events
      .filter((e) => e.channelId === row.id)
      .map((e) => e.eventType as EventType)
      .sort(catalogOrder),
    headers: headers.filter((h) => h.channelId === row.id),
  }));
}

/** A channel's newest delivery, as the channel list shows it beside the channel. */
export type LastDelivery = Pick<typeof deliveries.$inferSelect, "channelId" | "id" | "status" | "lastError" | "createdAt" | "updatedAt">;

/**
 * Channels oldest first (by creation, then id), after `after` (a cursor's position) and
 * `offset` rows, `limit` of them; each with its newest delivery. One round trip however
 * many channels: the newest delivery of each is one seek at the end of its key range, in
 * one statement, rather than a request per channel.
 */
export async function listChannels(db: Db, after: readonly [number, string] | undefined, offset: number, limit: number) {
  const pageIds = db
    .select({ id: channels.id })
    .from(channels)
    .where(after ? sql`(${channels.createdAt}, ${channels.id}) > (${after[0]}, ${after[1]})` : undefined)
    .orderBy(asc(channels.createdAt), asc(channels.id))
    .limit(limit)
    .offset(offset);
  const [rows, events, headers, latest] = await db.batch([
    db.select().from(channels).where(inArray(channels.id, pageIds)).orderBy(asc(channels.createdAt), asc(channels.id)),
    db.select().from(channelEvents).where(inArray(channelEvents.channelId, pageIds)),
    db.select().from(channelHeaders).where(inArray(channelHeaders.channelId, pageIds)).orderBy(asc(channelHeaders.createdAt)),
    db
      .select({
        channelId: deliveries.channelId,
        id: deliveries.id,
        status: deliveries.status,
        lastError: deliveries.lastError,
        createdAt: deliveries.createdAt,
        updatedAt: deliveries.updatedAt,
      })
      .from(deliveries)
      .where(
        and(
          inArray(deliveries.channelId, pageIds),
          // Spelled out: drizzle writes columns in sql fragments unqualified.
          sql`${deliveries.id} = (select d.id from deliveries as d where d.channel_id = deliveries.channel_id order by d.id desc limit 1)`,
        ),
      ),
  ]);
  const newest = new Map(latest.map((d) => [d.channelId, d as LastDelivery]));
  return assemble(rows, events, headers).map((record) => ({ ...record, lastDelivery: newest.get(record.row.id) ?? null }));
}

export async function findChannel(db: Db, id: string): Promise<ChannelRecord | undefined> {
  const [rows, events, headers] = await db.batch([
    db.select().from(channels).where(eq(channels.id, id)),
    db.select().from(channelEvents).where(eq(channelEvents.channelId, id)),
    db.select().from(channelHeaders).where(eq(channelHeaders.channelId, id)).orderBy(asc(channelHeaders.createdAt)),
  ]);
  return assemble(rows, events, headers)[0];
}

export async function getChannel(db: Db, id: string): Promise<ChannelRecord> {
  const record = await findChannel(db, id);
  if (!record) throw new NotFound("Webhook");
  return record;
}

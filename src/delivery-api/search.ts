import { and, desc, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import { alias, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import { NotFound } from "../core/errors";
import { knownChannel } from "../db/channel-names";
import type { Db } from "../db/client";
import { type DeliveryStatus, isLive, LIVE_STATUSES } from "../db/delivery-state";
import { idFloor } from "../db/ids";
import { storedEvent } from "../db/newest-events";
import { channelsWithDeliveries } from "../db/partitions";
import { ofEventContaining } from "../db/payload-search";
import { channels, deliveries } from "../db/schema";
import { deliveryChannel, deliveryListFields, ofEvent } from "./queries";

/** What an admin can narrow the deliveries of every channel down to. */
export interface DeliverySearch {
  status?: DeliveryStatus;
  webhookId?: string;
  eventType?: string;
  eventId?: string;
  /** Creation time bounds, unix ms: [since, until). */
  since?: number;
  until?: number;
  /** A list cursor's position: only deliveries whose id sorts before it (older). */
  before?: string;
  /** Text their event's payload contains, in any case (src/db/payload-search.ts). */
  q?: string;
}

/** The search as conditions on `table` (deliveries, or an alias of it), but for its channel and event. */
function filters(search: DeliverySearch, table: Record<"id" | "status" | "eventType", SQLiteColumn> = deliveries, name = "deliveries"): SQL | undefined {
  return and(
    search.q !== undefined ? ofEventContaining(search.q, name, search) : undefined,
    search.since !== undefined ? gte(table.id, idFloor(search.since)) : undefined,
    search.until !== undefined ? lt(table.id, idFloor(search.until)) : undefined,
    search.before !== undefined ? lt(table.id, search.before) : undefined,
    search.status ? eq(table.status, search.status) : undefined,
    search.eventType ? eq(table.eventType, search.eventType) : undefined,
  );
}

/** The whole search; without a channel, every channel is named, so SQLite reads each one's key range rather than the table. */
const matching = (search: DeliverySearch) =>
  and(
    search.webhookId ? eq(deliveries.channelId, search.webhookId) : inArray(deliveries.channelId, channelsWithDeliveries),
    search.eventId ? ofEvent(search.eventId) : undefined,
    filters(search),
  );

/**
 * Deliveries of every channel, newest first. One channel's are its key range read
 * backwards. Across channels, each channel gives its newest that match, as many as the
 * page needs, and those are merged: the work grows with the channels and the page, not
 * with the deliveries stored.
 *
 * A filter that few deliveries pass (`status=failed`) would make each channel read far
 * back for its share, so the merge first looks at the last hour, then the last day, and
 * only then at everything: a window that fills the page holds the newest matches of all.
 * Live statuses are read from their own index instead.
 */
export async function searchDeliveries(db: Db, search: DeliverySearch, offset: number, limit: number) {
  if (search.webhookId || search.eventId) return ofNamed(db, search, offset, limit);
  const live = search.status && (LIVE_STATUSES as readonly string[]).includes(search.status);
  if (live) return newestFirst(db, and(isLive(deliveries.status), filters(search)), offset, limit);
  // The windows end where the list goes on from: the cursor's millisecond, or `until`.
  const end = Math.min(search.until ?? Date.now(), search.before ? idTime(search.before) + 1 : Number.POSITIVE_INFINITY);
  for (const window of SEARCH_WINDOWS_MS) {
    const since = end - window;
    if (search.since !== undefined && search.since >= since) break;
    const rows = await mergeChannels(db, { ...search, since }, offset, limit);
    if (rows.length === limit) return rows;
  }
  return mergeChannels(db, search, offset, limit);
}

/**
 * One channel's key range; or an event's, one millisecond of each channel's. A webhook or
 * event named that is not known is NotFound, not an empty page: a channel neither existing
 * nor deleted (a deleted one's deliveries are kept, and listed), an event not stored. Looked
 * up in the same batch as the page, and only heeded when the page is empty.
 */
async function ofNamed(db: Db, search: DeliverySearch, offset: number, limit: number) {
  const named = [
    ...(search.webhookId ? [{ what: "Webhook", query: knownChannel(db, search.webhookId) }] : []),
    ...(search.eventId ? [{ what: "Event", query: storedEvent(db, search.eventId) }] : []),
  ];
  const page = newestFirst(db, matching(search), offset, limit);
  const [rows, ...found] = await db.batch([page, ...named.map((n) => n.query)]);
  const unknown = named.find((_, i) => found[i]!.length === 0);
  if (rows.length === 0 && unknown) throw new NotFound(unknown.what);
  return rows as Awaited<typeof page>;
}

/** The millisecond a UUIDv7 was made in: its first 48 bits (src/db/ids.ts). */
const idTime = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

const newestFirst = (db: Db, where: SQL | undefined, offset: number, limit: number) =>
  db.select(deliveryListFields).from(deliveries).leftJoin(channels, deliveryChannel).where(where).orderBy(desc(deliveries.id)).limit(limit).offset(offset);

const HOUR_MS = 3_600_000;
const SEARCH_WINDOWS_MS = [HOUR_MS, 24 * HOUR_MS];

function mergeChannels(db: Db, search: DeliverySearch, offset: number, limit: number) {
  const newest = alias(deliveries, "newest");
  const newestOfChannel = db
    .select({ id: newest.id })
    .from(newest)
    .where(and(sql`${newest.channelId} = k.v`, filters(search, newest, "newest")))
    .orderBy(desc(newest.id))
    .limit(offset + limit);
  return (
    db
      .select(deliveryListFields)
      // A cross join keeps the channels the outer loop: each one's newest, then their rows.
      .from(sql`${channelsWithDeliveries} as k`)
      .crossJoin(deliveries)
      .leftJoin(channels, deliveryChannel)
      .where(and(sql`${deliveries.channelId} = k.v`, inArray(deliveries.id, newestOfChannel)))
      .orderBy(desc(deliveries.id))
      .limit(limit)
      .offset(offset)
  );
}

/**
 * The failed deliveries a bulk recover may send again: those matching the search whose
 * channel still exists, is enabled and still subscribes to their type.
 */
export function recoverable(search: Omit<DeliverySearch, "status">): SQL | undefined {
  return and(
    matching({ ...search, status: "failed" }),
    // Spelled out: drizzle writes columns in sql fragments unqualified.
    sql`exists (select 1 from channel_events as ce join channels as c on c.id = ce.channel_id
                where ce.channel_id = deliveries.channel_id and ce.event_type = deliveries.event_type and c.enabled = 1)`,
  );
}

export async function countDeliveries(db: Db, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(deliveries).where(where);
  return row?.n ?? 0;
}

import { type SQL, sql } from "drizzle-orm";

/*
 * Deliveries are keyed by (channel_id, id) and events by (type, id), ids in time order
 * (src/db/ids.ts). Within one channel or type, "newest first" and "created between" are
 * ranges of the key. Across all of them, a query names every channel (type) so SQLite
 * seeks each one's range instead of reading the table: these are those names.
 */

/**
 * The values of the first column of a table's primary key, found by hopping along the key
 * from each value to the next: one seek per channel (type), however many rows. (SQLite
 * skip-scans on its own only with ANALYZE statistics, which D1 does not promise.)
 */
const firstKeyValues = (table: string, column: string) =>
  `(with recursive k(v) as (select min(${column}) from ${table} union all select (select min(${column}) from ${table} where ${column} > k.v) from k where k.v is not null)
    select v from k where v is not null)`;

/** Every channel that has deliveries, deleted ones too, as an SQL subquery. */
export const DELIVERY_CHANNELS = firstKeyValues("deliveries", "channel_id");
export const channelsWithDeliveries: SQL = sql.raw(DELIVERY_CHANNELS);
/** Every channel that has stats' counts (delivery_counts is keyed by channel, then hour). */
export const channelsWithCounts: SQL = sql.raw(firstKeyValues("delivery_counts", "channel_id"));
/** Every type that has events. */
export const typesWithEvents: SQL = sql.raw(firstKeyValues("events", "type"));

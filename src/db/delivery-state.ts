import { sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** A delivery's state as its row keeps it: its status (live, or ended), and its attempt log. */

export const deliveryStatuses = ["pending", "retrying", "held", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];
/** Not ended yet: queued to be sent (pending, retrying), or held while the channel is paused. */
export const LIVE_STATUSES = ["pending", "retrying", "held"] as const;
/** Live and not held: queued to be sent. */
export const QUEUED_STATUSES = ["pending", "retrying"] as const;

const inList = (statuses: readonly string[]) => `(${statuses.map((s) => `'${s}'`).join(", ")})`;
/**
 * SQL text, for prepared statements: `status in LIVE_SQL` is the deliveries_live index's
 * condition word for word (SQLite matches a partial index's condition by its terms).
 */
export const LIVE_SQL = inList(LIVE_STATUSES);
/** SQL text: `status in QUEUED_SQL`. */
export const QUEUED_SQL = inList(QUEUED_STATUSES);

/** Whether a delivery in this status has ended (succeeded, failed or cancelled). */
export const hasEnded = (status: DeliveryStatus): status is Exclude<DeliveryStatus, (typeof LIVE_STATUSES)[number]> =>
  !(LIVE_STATUSES as readonly DeliveryStatus[]).includes(status);
/**
 * The condition of the deliveries_live index. A query that should use the index repeats
 * it as it is (SQLite matches a partial index's condition by its terms), then narrows.
 */
export const isLive = (status: SQLiteColumn) => sql`${status} in ${sql.raw(LIVE_SQL)}`;

/** One attempt to send a delivery, kept in its delivery's `attempts` column. */
export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** The first 1 KiB of the response. */
  responseBody: string | null;
  /**
   * What was sent, when the channel rewrites it (a Transform, URL placeholders): the URL
   * and the first 1 KiB of the body, secrets masked. Absent for a channel that sends the
   * portal's bytes to a fixed URL (nothing new to store).
   */
  request?: { url: string; body: string };
}

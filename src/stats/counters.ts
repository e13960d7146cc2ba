import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type RunGuard, sqlIsCurrent } from "../db/current-run";
import { deliveries, deliveryCounts } from "../db/schema";
import { BUCKET_BOUNDS, bucketOf } from "./latency";

/**
 * Keeping `delivery_counts` true: every writer that ends a delivery, or takes an ended one
 * back (redeliver, recover), changes its channel's count for the hour the delivery was
 * created, in the same D1 batch as the change itself.
 */
export const HOUR_MS = 60 * 60 * 1000;
export const hourOf = (ms: number) => ms - (ms % HOUR_MS);

export type EndStatus = "succeeded" | "failed" | "cancelled";

/** One channel-hour's changes, gathered by a consumer batch. */
interface Delta {
  channelId: string;
  hour: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  latency: number[];
  lastError: string | null;
  lastFailureAt: number | null;
}

/** A delivery's end, counted only if its run is still the one judged (src/db/current-run.ts). */
interface GuardedEnd {
  channelId: string;
  hour: number;
  succeeded?: 1;
  failed?: 1;
  cancelled?: 1;
  guard: RunGuard;
}

/** What a consumer batch changes in the counts, gathered as it judges each message. */
export class CountChanges {
  private readonly deltas = new Map<string, Delta>();
  private readonly guardedEnds: GuardedEnd[] = [];
  private readonly attempts: (Omit<Delta, "succeeded" | "failed" | "cancelled"> & {
    fresh: { channelId: string; id: string; startedAt: number; durationMs: number };
  })[] = [];

  private at(channelId: string, createdAt: number): Delta {
    const hour = hourOf(createdAt);
    const key = `${channelId}/${hour}`;
    let delta = this.deltas.get(key);
    if (!delta) {
      delta = { channelId, hour, succeeded: 0, failed: 0, cancelled: 0, latency: [], lastError: null, lastFailureAt: null };
      this.deltas.set(key, delta);
    }
    return delta;
  }

  /** A delivery reached an end; with a guard, only if its run is still current when written. */
  ended(channelId: string, createdAt: number, status: EndStatus, guard?: RunGuard) {
    if (guard) this.guardedEnds.push({ channelId, hour: hourOf(createdAt), [status]: 1, guard });
    else this.at(channelId, createdAt)[status]++;
  }

  /**
   * An attempt of delivery `deliveryId`: its latency counts if the target answered; a
   * failure is remembered. Counted only while the attempt is not its delivery's last
   * recorded one yet, so a batch written again (D1 committed, then reported the write
   * lost) does not count it twice (the same test as RECORD_CHANGES's `fresh`).
   */
  attempt(
    channelId: string,
    deliveryId: string,
    createdAt: number,
    attempt: { startedAt: number; durationMs: number; statusCode: number | null; error: string | null },
  ) {
    const latency: number[] = [];
    if (attempt.statusCode !== null) latency[bucketOf(attempt.durationMs)] = 1;
    const failed = attempt.error !== null;
    this.attempts.push({
      channelId,
      hour: hourOf(createdAt),
      latency,
      lastError: failed ? attempt.error : null,
      lastFailureAt: failed ? attempt.startedAt : null,
      fresh: { channelId, id: deliveryId, startedAt: attempt.startedAt, durationMs: attempt.durationMs },
    });
  }

  get size() {
    return this.deltas.size + this.guardedEnds.length + this.attempts.length;
  }

  /** The one statement that adds these changes to the counts (before the changes themselves, in their batch). */
  statement(d1: D1Database): D1PreparedStatement {
    return d1.prepare(UPSERT).bind(JSON.stringify([...this.deltas.values(), ...this.guardedEnds, ...this.attempts]));
  }
}

// Adds a histogram to the stored one, bucket by bucket.
const mergedLatency = `json_array(${BUCKET_BOUNDS.map((_, k) => `coalesce(delivery_counts.latency->>'$[${k}]', 0) + coalesce(excluded.latency->>'$[${k}]', 0)`).join(", ")})`;

// The rows that hold (unguarded, or their run still current), summed per channel-hour:
// one row written per channel-hour however many deliveries end. With the one max(), the
// bare last_error is SQLite's value from the row of the latest failure.
const UPSERT = `
  insert into delivery_counts (channel_id, hour, succeeded, failed, cancelled, latency, last_error, last_failure_at)
  select n.value->>'channelId', n.value->>'hour', sum(coalesce(n.value->>'succeeded', 0)), sum(coalesce(n.value->>'failed', 0)),
         sum(coalesce(n.value->>'cancelled', 0)),
         json_array(${BUCKET_BOUNDS.map((_, k) => `sum(coalesce(n.value->>'$.latency[${k}]', 0))`).join(", ")}),
         n.value->>'lastError', max(n.value->>'lastFailureAt')
  from json_each(?1) as n
  where (n.value->>'guard' is null or ${sqlIsCurrent("n.value->'guard'")})
    and (n.value->>'fresh' is null or not exists (
      select 1 from deliveries as d
      where d.channel_id = n.value->>'$.fresh.channelId' and d.id = n.value->>'$.fresh.id'
        and d.attempts->>'$[#-1].startedAt' = n.value->>'$.fresh.startedAt' and d.attempts->>'$[#-1].durationMs' = n.value->>'$.fresh.durationMs'))
  group by 1, 2
  on conflict (channel_id, hour) do update set
    succeeded = succeeded + excluded.succeeded,
    failed = failed + excluded.failed,
    cancelled = cancelled + excluded.cancelled,
    latency = ${mergedLatency},
    last_error = case when coalesce(excluded.last_failure_at, 0) > coalesce(last_failure_at, 0) then excluded.last_error else last_error end,
    last_failure_at = max(coalesce(last_failure_at, 0), coalesce(excluded.last_failure_at, 0))`;

/**
 * For an admin's bulk change (run it in the same batch, before the change): the deliveries
 * matching `where` leave the status they ended in (`"restart"`: redeliver, recover), or
 * end cancelled (`"cancel"`: a channel deleted or unsubscribed).
 */
export function countBulk(db: Db, where: SQL | undefined, change: "restart" | "cancel") {
  const ending = (status: EndStatus) =>
    change === "restart" ? sql<number>`-sum(${deliveries.status} = ${status})` : sql<number>`${status === "cancelled" ? sql`count(*)` : sql`0`}`;
  return db
    .insert(deliveryCounts)
    .select(
      db
        .select({
          channelId: deliveries.channelId,
          hour: sql<number>`${deliveries.createdAt} - ${deliveries.createdAt} % ${HOUR_MS}`.as("hour"),
          succeeded: ending("succeeded").as("succeeded"),
          failed: ending("failed").as("failed"),
          cancelled: ending("cancelled").as("cancelled"),
          latency: sql<string>`'[]'`.as("latency"),
          lastError: sql<string | null>`null`.as("last_error"),
          lastFailureAt: sql<number | null>`null`.as("last_failure_at"),
        })
        .from(deliveries)
        .where(where ?? sql`true`)
        .groupBy(sql`1`, sql`2`),
    )
    .onConflictDoUpdate({
      target: [deliveryCounts.channelId, deliveryCounts.hour],
      set: {
        succeeded: sql`${deliveryCounts.succeeded} + excluded.succeeded`,
        failed: sql`${deliveryCounts.failed} + excluded.failed`,
        cancelled: sql`${deliveryCounts.cancelled} + excluded.cancelled`,
      },
    });
}

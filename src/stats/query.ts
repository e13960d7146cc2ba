import { and, asc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { iso } from "../db/client";
import { type DeliveryStatus, deliveryStatuses, hasEnded, isLive } from "../db/delivery-state";
import { idFloor } from "../db/ids";
import { channelsWithDeliveries } from "../db/partitions";
import { channels, deletedChannels, deliveries, deliveryCounts, eventsStoredLate } from "../db/schema";
import { HOUR_MS, hourOf } from "./counters";
import { addTo, type Histogram, percentile } from "./latency";

/**
 * `GET /portal-api/stats`: delivery health over the deliveries created in [since, until).
 *
 * Whole hours come from `delivery_counts` (a few rows per channel and hour, however many
 * deliveries); the part-hours at the window's two ends are read from the deliveries
 * themselves, a range of each channel's key; deliveries still live (pending,
 * retrying, held) through the partial index of live deliveries. One D1 round trip.
 */
export interface StatsQuery {
  since: number;
  until: number;
  webhookId?: string;
}

type Counts = Record<DeliveryStatus, number>;
const MAX_BUCKETS = 60;

const zero = (): Counts => Object.fromEntries(deliveryStatuses.map((s) => [s, 0])) as Counts;

interface Tally {
  counts: Counts;
  latency: Histogram;
  exact: number[];
  lastError: string | null;
  lastFailureAt: number | null;
}
const tally = (): Tally => ({ counts: zero(), latency: [], exact: [], lastError: null, lastFailureAt: null });

function noteFailure(t: Tally, error: string | null, at: number | null) {
  if (error !== null && at !== null && at >= (t.lastFailureAt ?? 0)) {
    t.lastError = error;
    t.lastFailureAt = at;
  }
}

/** An ended status counted from a delivery itself. */

export async function deliveryStats(db: Db, { since, until, webhookId }: StatsQuery) {
  // Whole hours inside the window, read from the counts; the rest from the deliveries.
  const firstWhole = Math.ceil(since / HOUR_MS) * HOUR_MS;
  const endWhole = hourOf(until);
  const wholeHours = firstWhole < endWhole;
  const edges: [number, number][] = wholeHours
    ? (
        [
          [since, firstWhole],
          [endWhole, until],
        ] as [number, number][]
      ).filter(([a, b]) => a < b)
    : [[since, until]];
  const ofChannel = webhookId ? eq(deliveries.channelId, webhookId) : inArray(deliveries.channelId, channelsWithDeliveries);

  // The deliveries created in [from, to): a range of each channel's key (src/db/ids.ts).
  const edgeRows = (from: number, to: number) =>
    db
      .select({
        channelId: deliveries.channelId,
        status: deliveries.status,
        createdAt: deliveries.createdAt,
        // Each attempt as [durationMs, answered, startedAt, error], without its response.
        attempts: sql<string>`(select json_group_array(json_array(a.value->>'durationMs', a.value->>'statusCode' is not null,
                               a.value->>'startedAt', a.value->>'error')) from json_each(deliveries.attempts) as a)`,
      })
      .from(deliveries)
      .where(and(ofChannel, gte(deliveries.id, idFloor(from)), lt(deliveries.id, idFloor(to))));

  const [counted, edgeA, edgeB, live, channelRows, tombstones, storedLate] = await db.batch([
    db
      .select()
      .from(deliveryCounts)
      .where(
        and(
          gte(deliveryCounts.hour, wholeHours ? firstWhole : 0),
          lt(deliveryCounts.hour, wholeHours ? endWhole : 0),
          webhookId ? eq(deliveryCounts.channelId, webhookId) : undefined,
        ),
      ),
    edgeRows(...(edges[0] ?? [0, 0])),
    edgeRows(...(edges[1] ?? [0, 0])),
    db
      .select({ channelId: deliveries.channelId, status: deliveries.status, createdAt: deliveries.createdAt })
      .from(deliveries)
      // Without a channel, only the live index can answer; with one, its key range of the window.
      .where(
        and(
          isLive(deliveries.status),
          gte(deliveries.createdAt, since),
          lt(deliveries.createdAt, until),
          webhookId ? and(eq(deliveries.channelId, webhookId), gte(deliveries.id, idFloor(since)), lt(deliveries.id, idFloor(until))) : undefined,
        ),
      ),
    db
      .select({ id: channels.id, name: channels.name })
      .from(channels)
      .where(webhookId ? eq(channels.id, webhookId) : undefined)
      .orderBy(asc(channels.createdAt), asc(channels.id)),
    db
      .select({ id: deletedChannels.id, name: deletedChannels.name })
      .from(deletedChannels)
      .where(webhookId ? eq(deletedChannels.id, webhookId) : undefined),
    // Events received in the window while D1 was down, stored later: a range of its key, ids being in time order.
    db
      .select({ n: sql<number>`count(*)` })
      .from(eventsStoredLate)
      .where(and(gte(eventsStoredLate.eventId, idFloor(since)), lt(eventsStoredLate.eventId, idFloor(until)))),
  ]);

  const series = seriesBuckets(since, until, wholeHours);
  const total = tally();
  const perChannel = new Map<string, Tally>(channelRows.map((c) => [c.id, tally()]));
  const of = (channelId: string) => {
    const t = perChannel.get(channelId) ?? tally();
    perChannel.set(channelId, t);
    return t;
  };

  for (const row of counted) {
    const latency = JSON.parse(row.latency) as number[];
    const ended: [DeliveryStatus, number][] = [
      ["succeeded", row.succeeded],
      ["failed", row.failed],
      ["cancelled", row.cancelled],
    ];
    for (const t of [total, of(row.channelId)]) {
      for (const [status, n] of ended) t.counts[status] += n;
      addTo(t.latency, latency);
      noteFailure(t, row.lastError, row.lastFailureAt);
    }
    for (const [status, n] of ended) series.add(row.hour, status, n, row.channelId);
  }
  for (const row of [...edgeA, ...edgeB]) {
    const attempts = JSON.parse(row.attempts) as [number, number, number, string | null][];
    for (const t of [total, of(row.channelId)]) {
      if (hasEnded(row.status)) t.counts[row.status]++;
      for (const [durationMs, answered, startedAt, error] of attempts) {
        if (answered) t.exact.push(Number(durationMs));
        noteFailure(t, error, Number(startedAt));
      }
    }
    if (hasEnded(row.status)) series.add(row.createdAt, row.status, 1, row.channelId);
  }
  for (const row of live) {
    total.counts[row.status]++;
    of(row.channelId).counts[row.status]++;
    series.add(row.createdAt, row.status, 1, row.channelId);
  }

  const names = new Map(channelRows.map((c) => [c.id, c.name]));
  const deletedNames = new Map(tombstones.map((c) => [c.id, c.name]));
  return {
    Since: iso(since)!,
    Until: iso(until)!,
    ...health(total),
    Webhooks: [...perChannel].map(([id, t]) => ({
      ID: id,
      Name: names.get(id) ?? deletedNames.get(id) ?? null,
      Deleted: !names.has(id),
      ...health(t),
      LastError: t.lastError,
      LastFailureAt: iso(t.lastFailureAt),
      Trend: series.trend(id),
    })),
    Series: series.list(),
    StoredLate: storedLate[0]?.n ?? 0,
  };
}

function health(t: Tally) {
  const { succeeded, failed } = t.counts;
  return {
    Counts: t.counts,
    SuccessRate: succeeded + failed === 0 ? null : Math.round((succeeded / (succeeded + failed)) * 10_000) / 10_000,
    LatencyMs: { P50: percentile(t.exact, t.latency, 0.5), P95: percentile(t.exact, t.latency, 0.95) },
  };
}

/**
 * The window in at most 60 equal buckets. Over whole hours the buckets are whole hours too
 * (the counts are hourly), starting at the hour `since` falls in; a window read entirely
 * from the deliveries is split finely.
 */
function seriesBuckets(since: number, until: number, hourly: boolean) {
  const start = hourly ? hourOf(since) : since;
  const width = hourly ? Math.ceil((until - start) / MAX_BUCKETS / HOUR_MS) * HOUR_MS : Math.max(1000, Math.ceil((until - start) / MAX_BUCKETS / 1000) * 1000);
  const buckets = Array.from({ length: Math.max(1, Math.ceil((until - start) / width)) }, (_, k) => ({
    start: Math.max(since, start + k * width),
    counts: zero(),
  }));
  // Per channel, [succeeded, failed] per bucket: a sparkline's worth.
  const trends = new Map<string, [number, number][]>();
  return {
    add(at: number, status: DeliveryStatus, n: number, channelId: string) {
      const k = Math.min(buckets.length - 1, Math.max(0, Math.floor((at - start) / width)));
      buckets[k]!.counts[status] += n;
      if (status !== "succeeded" && status !== "failed") return;
      const trend = trends.get(channelId) ?? buckets.map((): [number, number] => [0, 0]);
      trends.set(channelId, trend);
      trend[k]![status === "succeeded" ? 0 : 1] += n;
    },
    list: () => buckets.map((b) => ({ Start: iso(b.start)!, Counts: b.counts })),
    trend: (channelId: string) => trends.get(channelId) ?? buckets.map((): [number, number] => [0, 0]),
  };
}

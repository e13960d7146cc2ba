import { runGuard } from "../db/current-run";
import { hasEnded } from "../db/delivery-state";
import type { BatchData, BatchDelivery, DeliveryChange, Handled } from "../db/records";
import { webhookDisabled } from "../operational/events";
import { CountChanges } from "../stats/counters";
import type { BatchWrites } from "./batch-sql";

/** A change's part in the stats: an attempt's latency and failure, and an end. */
function countChange(counts: CountChanges, change: DeliveryChange, delivery: BatchDelivery) {
  if (change.attempt) counts.attempt(delivery.channelId, delivery.id, delivery.createdAt, change.attempt);
  if (hasEnded(change.status)) {
    counts.ended(delivery.channelId, delivery.createdAt, change.status, runGuard(change));
  }
}

export function collectWrites(handled: Handled[], { channels, deliveries }: BatchData, now: number): BatchWrites {
  const writes: BatchWrites = { changes: [], channelHealth: [], disable: [], raise: [], counts: new CountChanges(), parks: [], laneEnds: [] };
  const health = new Map<string, boolean>();
  for (const h of handled) {
    if (h.change) {
      const delivery = deliveries.get(h.change.id)!;
      writes.changes.push(h.change);
      countChange(writes.counts, h.change, delivery);
      if (delivery.lane !== null && hasEnded(h.change.status)) writes.laneEnds.push({ channelId: delivery.channelId, lane: delivery.lane });
    }
    if (h.park) writes.parks.push({ channelId: h.park.channelId, id: h.park.id, generation: h.park.generation });
    // A delivery's failure is raised only if the change that ends it holds.
    if (h.raise) writes.raise.push(h.change ? { ...h.raise, ifCurrent: runGuard(h.change) } : h.raise);
    if (h.channel) {
      // One success in the batch is enough to say the channel works.
      health.set(h.channel.id, (health.get(h.channel.id) ?? false) || h.channel.ok);
      if (h.channel.gone && !writes.disable.some((d) => d.id === h.channel!.id)) {
        writes.disable.push({ id: h.channel.id, reason: h.channel.gone });
        if (!h.channel.quiet) writes.raise.push(webhookDisabled({ id: h.channel.id, name: channels.get(h.channel.id)?.name ?? "" }, h.channel.gone, now));
      }
    }
  }
  // Only a streak that starts or ends is written; most batches have none.
  writes.channelHealth = [...health].filter(([id, ok]) => ok === (channels.get(id)?.failingSince != null)).map(([id, ok]) => ({ id, ok }));
  return writes;
}

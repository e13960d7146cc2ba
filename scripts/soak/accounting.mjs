// What arrived, against what was accepted: every accepted delivery must be `succeeded`
// with an arrival at the receiver, or `failed` with its attempts; anything else is lost.
import { pathOf } from "./channels.mjs";

/** Every delivery row of the channels, each with the receiver's path it goes to. */
export async function readDeliveries(run, channels) {
  const deliveries = [];
  for (const channel of channels) {
    for (let page = 1; ; page++) {
      const rows = await run.admin("GET", `/webhooks/${channel.ID}/deliveries?per_page=100&page=${page}`);
      deliveries.push(...rows.map((d) => ({ ...d, path: pathOf(channel) })));
      if (rows.length < 100) break;
    }
  }
  return deliveries;
}

/** Succeeded, failed and lost deliveries (the first 5 lost printed), and all their attempts. */
export function countOutcomes(accepted, channels, deliveries, arrivals) {
  const byKey = new Map(deliveries.map((d) => [`${d.EventID} ${d.path}`, d]));
  const counts = { succeeded: 0, failed: 0, lost: 0, attempts: 0 };
  for (const id of accepted) {
    for (const channel of channels) {
      const key = `${id} ${pathOf(channel)}`;
      const d = byKey.get(key);
      counts.attempts += d?.AttemptCount ?? 0;
      if (d?.Status === "succeeded" && arrivals.get(key) >= 1) counts.succeeded++;
      else if (d?.Status === "failed" && d.AttemptCount > 0) counts.failed++;
      else {
        counts.lost++;
        if (counts.lost <= 5)
          console.log(`  LOST ${key}: ${d ? `${d.Status}, ${d.AttemptCount} attempts, ${arrivals.get(key) ?? 0} arrivals` : "no delivery row"}`);
      }
    }
  }
  return counts;
}

/** Extra 200s for one webhook-id and channel: all of them, and those on the ordered channel. */
export function countDuplicates(arrivals) {
  const extra = (n) => Math.max(0, n - 1);
  return {
    duplicates: [...arrivals.values()].reduce((sum, n) => sum + extra(n), 0),
    orderedDuplicates: [...arrivals].reduce((sum, [key, n]) => sum + (key.endsWith(" /ordered") ? extra(n) : 0), 0),
  };
}

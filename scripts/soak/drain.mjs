// Waiting for the end: until no delivery is live and every parked event is stored, or
// `--max-minutes` after the first post.
import { setTimeout as sleep } from "node:timers/promises";

const LIVE = ["pending", "retrying", "held"];

/** Live deliveries of the channels now (up to 100 per channel and status: enough to tell "none"). */
export async function pendingCount(run, channels) {
  let n = 0;
  for (const channel of channels) {
    for (const status of LIVE) {
      n += (await run.admin("GET", `/webhooks/${channel.ID}/deliveries?status=${status}&per_page=100`)).length;
    }
  }
  return n;
}

/** Polls every 2 s until nothing is live or parked, or `deadline` (unix ms) has passed. */
export async function drain(run, channels, parked, deadline) {
  const unstored = new Set(parked);
  /** Parked events not stored yet (an event's page answers 404 until it is). */
  const stillParked = async () => {
    for (const id of [...unstored]) {
      const res = await fetch(`${run.current.url}/portal-api/events/${id}`, { headers: { Authorization: `Bearer ${run.current.vars.ADMIN_TOKEN}` } });
      if (res.ok) unstored.delete(id);
    }
    return unstored.size;
  };
  while ((await pendingCount(run, channels)) > 0 || (await stillParked()) > 0) {
    if (Date.now() > deadline) break;
    await sleep(2000);
  }
}

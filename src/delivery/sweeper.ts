import { reencryptStale } from "../channels/store";
import { database } from "../db/client";
import { config, type Env } from "../env";
import { log } from "../log";
import { secretBox } from "../security/secret-box";
import { enqueueDeliveries } from "./message";
import { housekeeping, reclaimLostDeliveries } from "./store";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** How long past due a delivery may be before its queue message counts as lost. */
export const LOST_AFTER = { pendingMs: 2 * MINUTE, retryingMs: 5 * MINUTE };
/** Deliveries re-sent per run; a larger backlog drains over the following minutes. */
const RECLAIM_LIMIT = 1000;
const FAILING_DISABLES_AFTER_MS = 5 * DAY;

/**
 * The cron job, every minute. D1 is the source of truth and the queue only a fast path:
 * whatever the queue lost (a failed send, a local restart) is found here and sent again.
 */
export async function sweep(env: Env, now = Date.now()) {
  const db = database(env.DB);
  const reclaimed = await reclaimLostDeliveries(db, now, LOST_AFTER, RECLAIM_LIMIT);
  if (reclaimed.length) await enqueueDeliveries(env.DELIVERIES, reclaimed);
  const { disabledChannels } = await housekeeping(db, now, config(env).retentionDays * DAY, FAILING_DISABLES_AFTER_MS);
  // During an ENCRYPTION_KEY rotation, move a slice of the stored secrets to the new key.
  const reencrypted = env.ENCRYPTION_KEY_PREVIOUS ? await reencryptStale(db, await secretBox(env)) : 0;
  log.info("sweep", { reclaimed: reclaimed.length, disabledChannels: disabledChannels.length, reencrypted });
  return { reclaimed, disabledChannels, reencrypted };
}

import { reencryptStale } from "../channels/secrets";
import { type Config, config, type Env } from "../core/env";
import { errorText, log } from "../core/log";
import { type Db, database } from "../db/client";
import { BATCH_RETRY, withD1Retry } from "../db/d1-retry";
import type { DeliveryMessage } from "../db/records";
import { enqueueCommitted } from "../queue/enqueue";
import { secretBox } from "../security/secret-box";
import { dueStrandedLaneHeads, housekeeping, reclaimLostDeliveries } from "./queries";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Lost deliveries are re-sent in slices: one D1 statement (≈ 1,000 rows read, 1,000
 * updated) and 10 `sendBatch` calls of 100 messages (≈ 10 KB each, far below 256 KB) per
 * slice, at most one slice a second, so the sweeper takes at most 1,000 of the deliveries
 * queue's 5,000 messages a second and leaves the rest to intake. Up to 30 slices a run:
 * 30,000 a minute, 1.8 M an hour, in ≈ 30 s of the minute (the next run starts after)
 * and ≈ 330 subrequests of the Paid plan's 1,000 (docs/capacity.md, "A throttled burst").
 */
export const RECLAIM_SLICE = 1000;
export const RECLAIM_SLICES = 30;
const RECLAIM_SLICE_MS = 1000;
const FAILING_DISABLES_AFTER_MS = 5 * DAY;

/**
 * The cron job, every minute. D1 is the source of truth and the queue only a fast path:
 * whatever the queue lost (a failed send, a local restart) is found here and sent again.
 */
export async function sweep(env: Env, now = Date.now()) {
  const db = database(env.DB);
  const cfg = config(env);
  // Each step is one D1 batch (all or nothing), retried on D1's transient errors; a step
  // that still fails is logged and left for the next minute, and the others run anyway.
  // Reclaiming commits the new generations before it sends: if the send fails, the
  // deliveries are reclaimed again after their grace.
  const stranded = await step("lanes", 0, () => dueStrandedLaneHeads(db, now));
  const reclaimed = await reclaim(env, db, now, cfg.lostAfter);
  // Disabling and raising Dispatcher.WebhookDisabled are one batch: never one without the other.
  const { disabledChannels, raised } = await step("housekeeping", { disabledChannels: [], raised: [] }, () =>
    housekeeping(env.DB, db, now, cfg.retentionDays * DAY, FAILING_DISABLES_AFTER_MS),
  );
  if (raised.length) await enqueueCommitted(env.DELIVERIES, raised, "operational events");
  // During an ENCRYPTION_KEY rotation, move a slice of the stored secrets to the new key.
  const reencrypted = env.ENCRYPTION_KEY_PREVIOUS ? await step("reencrypt", 0, async () => reencryptStale(db, await secretBox(env))) : 0;
  log.info("sweep", { reclaimed: reclaimed.length, stranded, disabledChannels: disabledChannels.length, reencrypted });
  return { reclaimed, disabledChannels, reencrypted };
}

/**
 * Re-sends lost deliveries, slice after slice, while slices come back full, up to
 * RECLAIM_SLICES, at most one a second. Stops early when the queue refuses a slice (it is
 * throttled or down: the next slice would only fail too); what it refused is found again
 * after its grace. Returns the messages of every slice.
 */
async function reclaim(env: Env, db: Db, now: number, grace: Config["lostAfter"]): Promise<DeliveryMessage[]> {
  const all: DeliveryMessage[] = [];
  for (let slice = 0; slice < RECLAIM_SLICES; slice++) {
    const started = Date.now();
    const messages = await step("reclaim", [], () => reclaimLostDeliveries(db, now, grace, RECLAIM_SLICE));
    all.push(...messages);
    if (!messages.length) break;
    const queued = await enqueueCommitted(env.DELIVERIES, messages, "reclaimed by the sweeper");
    if (!queued || messages.length < RECLAIM_SLICE) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, RECLAIM_SLICE_MS - (Date.now() - started))));
  }
  return all;
}

/** One step of the sweep, retried on D1's transient errors; `otherwise` if it still fails. */
async function step<T>(name: string, otherwise: T, work: () => Promise<T>): Promise<T> {
  try {
    return await withD1Retry(work, BATCH_RETRY);
  } catch (err) {
    log.error("sweep step failed; the next sweep tries again", { step: name, error: errorText(err) });
    return otherwise;
  }
}

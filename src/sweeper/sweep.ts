import { reencryptStale } from "../channels/secrets";
import { database } from "../db/client";
import { BATCH_RETRY, withD1Retry } from "../db/d1-retry";
import { raiseEvents } from "../delivery/batch-sql";
import { enqueueCommitted } from "../delivery/message";
import { config, type Env } from "../env";
import { errorText, log } from "../log";
import { webhookDisabled } from "../operational/events";
import { secretBox } from "../security/secret-box";
import { housekeeping, reclaimLostDeliveries } from "./queries";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Deliveries re-sent per run; a larger backlog drains over the following minutes. */
const RECLAIM_LIMIT = 1000;
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
  const reclaimed = await step("reclaim", [], () => reclaimLostDeliveries(db, now, cfg.lostAfter, RECLAIM_LIMIT));
  if (reclaimed.length) await enqueueCommitted(env.DELIVERIES, reclaimed, "reclaimed by the sweeper");
  const { disabledChannels } = await step("housekeeping", { disabledChannels: [] }, () =>
    housekeeping(db, now, cfg.retentionDays * DAY, FAILING_DISABLES_AFTER_MS),
  );
  const raised = await step("raise", [], () =>
    raiseEvents(
      env.DB,
      disabledChannels.map((c) => webhookDisabled(c, c.reason, now)),
      now,
    ),
  );
  if (raised.length) await enqueueCommitted(env.DELIVERIES, raised, "operational events");
  // During an ENCRYPTION_KEY rotation, move a slice of the stored secrets to the new key.
  const reencrypted = env.ENCRYPTION_KEY_PREVIOUS ? await step("reencrypt", 0, async () => reencryptStale(db, await secretBox(env))) : 0;
  log.info("sweep", { reclaimed: reclaimed.length, disabledChannels: disabledChannels.length, reencrypted });
  return { reclaimed, disabledChannels, reencrypted };
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

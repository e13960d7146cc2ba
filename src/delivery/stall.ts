import { errorText, log } from "../core/log";
import type { DeliveryMessage } from "../db/records";

/*
 * A consumer batch that D1 could not read or record, even after retrying within the
 * invocation (src/db/d1-retry.ts). Its messages go back to the queue as new messages,
 * later, as rate-limit waits do: `retry()` would count towards the queue's max_retries,
 * and after 100 an outage would send them to the dead-letter queue, which ends deliveries
 * `failed` whose result was never recorded, even ones the target answered 2xx.
 */

/**
 * Seconds before a batch D1 could not take comes back, by how many times in a row it
 * could not (`stalls`, 1-based): 10, 20, 40, … 600. Growing, so hundreds of invocations
 * do not keep an overloaded database busy (D1 answers "D1 DB is overloaded" when too much
 * is queued), yet a short outage costs seconds.
 */
export const stallDelaySeconds = (stalls: number) => Math.min(10 * 2 ** Math.max(0, stalls - 1), 600);

// sendBatch takes at most 100 messages (https://developers.cloudflare.com/queues/platform/limits/).
const SEND_BATCH_LIMIT = 100;

/**
 * Sends every message of the batch back with the next stall delay, counted in the message
 * itself (a new message starts again at attempts 1) and by Queues (`attempts`, for a
 * message that came back through retry()). If the queue refuses, the batch is retried
 * after all: spending a retry beats losing the message.
 */
export async function sendBackLater(queue: Queue<DeliveryMessage>, batch: MessageBatch<DeliveryMessage>, why: string): Promise<void> {
  const stalls = Math.max(...batch.messages.map((m) => Math.max((m.body?.stalls ?? 0) + 1, m.attempts)));
  const delaySeconds = stallDelaySeconds(stalls);
  try {
    const messages = batch.messages.map((m) => ({ body: { ...m.body, stalls }, delaySeconds }));
    for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) await queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT));
    batch.ackAll();
    log.warn("consumer batch sent back for later", { why, messages: batch.messages.length, stalls, delaySeconds });
  } catch (err) {
    log.error("could not send a batch back; retrying it", { why, messages: batch.messages.length, error: errorText(err) });
    batch.retryAll({ delaySeconds });
  }
}

import { errorText, log } from "../core/log";
import type { DeliveryMessage } from "../db/records";

/** The message that sends a delivery in its current generation. */
export const messageFor = (delivery: { channelId: string; id: string; generation: number }): DeliveryMessage => ({
  deliveryId: delivery.id,
  channelId: delivery.channelId,
  generation: delivery.generation,
});

// sendBatch takes at most 100 messages.
const SEND_BATCH_LIMIT = 100;
/** How long all of one call's sends may take, in ms. */
const ENQUEUE_WITHIN_MS = 3000;

/**
 * The whole seconds until `startAt`, rounded down so the message is handed over within the
 * second before it (the consumer waits out the rest); undefined for none.
 */
function delayTo(startAt: number | undefined): number | undefined {
  if (startAt === undefined) return undefined;
  const seconds = Math.floor((startAt - Date.now()) / 1000);
  return seconds > 0 ? Math.min(seconds, MAX_DELAY_SECONDS) : undefined;
}
const MAX_DELAY_SECONDS = 12 * 60 * 60;

/**
 * Queues the messages of deliveries that are already committed to D1, at most 100 to a
 * `sendBatch`. Never throws: a committed delivery is due in D1, so if the queue refuses,
 * the sweeper finds it and sends it (LOST_AFTER_SECONDS), and the caller answers as if it
 * were queued. `what` names them in the log line. Returns whether all were queued.
 */
export async function enqueueCommitted(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[], what: string): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Bounded: a queue that hangs (an undocumented "Queue is overloaded" came after 57 s)
    // must not hold the portal's answer or a consumer batch; the sweeper covers the rest.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ENQUEUE_WITHIN_MS} ms`)), ENQUEUE_WITHIN_MS);
    });
    for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
      await Promise.race([queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT).map((body) => ({ body, delaySeconds: delayTo(body.startAt) }))), late]);
    }
    return true;
  } catch (err) {
    log.error("the queue refused committed deliveries; the sweeper will send them", { what, deliveries: messages.length, error: errorText(err) });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

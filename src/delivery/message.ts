import { errorText, log } from "../log";

/**
 * A queue message names one delivery by its key (channel and id), and the generation it
 * was sent for; everything else is read from D1 when it is handled.
 */
export interface DeliveryMessage {
  deliveryId: string;
  /**
   * Absent in messages sent before deliveries were keyed by channel: their ids were
   * rewritten since, so they find nothing and the sweeper sends their deliveries again.
   */
  channelId?: string;
  /** Absent in messages sent before generations existed: read as 0. */
  generation?: number;
}

/** The message that sends a delivery in its current generation. */
export const messageFor = (delivery: { channelId: string; id: string; generation: number }): DeliveryMessage => ({
  deliveryId: delivery.id,
  channelId: delivery.channelId,
  generation: delivery.generation,
});

// sendBatch takes at most 100 messages.
const SEND_BATCH_LIMIT = 100;

/**
 * Queues the messages of deliveries that are already committed to D1, at most 100 to a
 * `sendBatch`. Never throws: a committed delivery is due in D1, so if the queue refuses,
 * the sweeper finds it and sends it (LOST_AFTER_SECONDS), and the caller answers as if it
 * were queued. `what` names them in the log line. Returns whether all were queued.
 */
export async function enqueueCommitted(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[], what: string): Promise<boolean> {
  try {
    for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
      await queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT).map((body) => ({ body })));
    }
    return true;
  } catch (err) {
    log.error("the queue refused committed deliveries; the sweeper will send them", { what, deliveries: messages.length, error: errorText(err) });
    return false;
  }
}

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

export async function enqueueDeliveries(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[]) {
  for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
    await queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT).map((body) => ({ body })));
  }
}

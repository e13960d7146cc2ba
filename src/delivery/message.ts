/**
 * A queue message names one delivery, and the generation it was sent for; everything else
 * is read from D1 when it is handled.
 */
export interface DeliveryMessage {
  deliveryId: string;
  /** Absent in messages sent before generations existed: read as 0. */
  generation?: number;
}

/** The message that sends a delivery in its current generation. */
export const messageFor = (delivery: { id: string; generation: number }): DeliveryMessage => ({
  deliveryId: delivery.id,
  generation: delivery.generation,
});

// sendBatch takes at most 100 messages.
const SEND_BATCH_LIMIT = 100;

export async function enqueueDeliveries(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[]) {
  for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
    await queue.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT).map((body) => ({ body })));
  }
}

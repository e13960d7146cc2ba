/** A queue message names one delivery; everything else is read from D1 when it is handled. */
export interface DeliveryMessage {
  deliveryId: string;
}

// sendBatch takes at most 100 messages.
const SEND_BATCH_LIMIT = 100;

export async function enqueueDeliveries(queue: Queue<DeliveryMessage>, deliveryIds: string[], delaySeconds = 0) {
  for (let i = 0; i < deliveryIds.length; i += SEND_BATCH_LIMIT) {
    const chunk = deliveryIds.slice(i, i + SEND_BATCH_LIMIT);
    await queue.sendBatch(chunk.map((deliveryId) => ({ body: { deliveryId }, delaySeconds })));
  }
}

import { env } from "cloudflare:workers";
import { createChannel, delivery, makeDelivery } from "../helpers";

/** A failed delivery of a fresh channel, and its row as stored. */
export async function failedDelivery() {
  const channel = await createChannel();
  const { deliveryId } = await makeDelivery(channel.ID);
  await env.DB.prepare("update deliveries set status = 'failed', next_attempt_at = null where id = ?").bind(deliveryId).run();
  return { channel, deliveryId, row: await delivery(deliveryId) };
}

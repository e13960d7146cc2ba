import { api, consume, delivery, makeDue } from "../helpers";

/*
 * What the tests of the consumer, the deliveries API, the stats and the operational events
 * share: a delivery sent until it ends, and a channel's signing secret.
 */

const ONE_RETRY = { RETRY_SCHEDULE: "1" };

/** Sends a delivery until it ends (at most two attempts with ONE_RETRY). */
export async function settle(deliveryId: string) {
  await consume([deliveryId], ONE_RETRY);
  if ((await delivery(deliveryId)).status === "retrying") {
    await makeDue(deliveryId);
    await consume([deliveryId], ONE_RETRY);
  }
  return (await delivery(deliveryId)).status as string;
}

export async function secretOf(channelId: string): Promise<{ Secret: string; PreviousSecret: string | null }> {
  return (await api("GET", `/portal-api/webhooks/${channelId}/secret`)).json();
}

/** The dead-letter queue's consumer: what it ends `failed`, and what it leaves alone. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../src/db/records";
import { createChannel, delivery, makeDelivery, runQueue } from "../helpers";

describe("the dead-letter queue", () => {
  it("marks its deliveries failed with the reason", async () => {
    const channel = await createChannel();
    const { deliveryId } = await makeDelivery(channel.ID);
    // An attempt of this run was recorded (one never recorded is not failed: test/outage/consumer.test.ts).
    await env.DB.prepare("update deliveries set status = 'retrying', attempt_count = 1 where id = ?").bind(deliveryId).run();
    const result = await runQueue<DeliveryMessage>("tyk-webhook-deliveries-dlq", [{ deliveryId, channelId: channel.ID }]);
    expect(result.ackedAll).toBe(true);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", last_error: expect.stringMatching(/^dead-lettered/) });
  });

  it("leaves a delivery alone when the dead letter was of an older generation", async () => {
    const channel = await createChannel();
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set generation = 1 where id = ?").bind(deliveryId).run();
    await runQueue<DeliveryMessage>("tyk-webhook-deliveries-dlq", [{ deliveryId, generation: 0 }]);
    expect((await delivery(deliveryId)).status).toBe("pending");
  });
});

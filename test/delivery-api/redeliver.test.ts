import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { ADMIN, api, consume, createChannel, delivery, makeDelivery, receivedAt, target } from "../helpers";

describe("POST /portal-api/deliveries/{id}/redeliver", () => {
  it("redeliver sends a delivery again now, even one that succeeded", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);

    const queue = recordingQueue();
    const res = await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`, undefined, ADMIN, { DELIVERIES: queue });
    expect(res.status).toBe(202);
    expect(await res.json<any>()).toMatchObject({ ID: deliveryId, Status: "pending", AttemptCount: 1 });
    // A new generation: a late copy of the first message would be dropped, not sent.
    expect(queue.sent.flat().map((m) => m.body)).toEqual([{ deliveryId, channelId: channel.ID, generation: 1 }]);

    await consume([deliveryId]);
    expect(await receivedAt(url)).toHaveLength(2);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 2 });
  });

  it("redeliver refuses a delivery of a disabled channel with 409", async () => {
    const channel = await createChannel({ Enabled: false });
    const { deliveryId } = await makeDelivery(channel.ID);
    const res = await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`, undefined, ADMIN, { DELIVERIES: recordingQueue() });
    expect(res.status).toBe(409);
    expect((await res.json<any>()).errors[0]).toMatch(/^Enabled: /);
  });
});

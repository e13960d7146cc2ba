/** The consumer, the dead-letter path and the sweeper under D1's trouble: nothing recorded twice, nothing failed for D1's sake. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { DeliveryMessage } from "../../src/db/records";
import { recordingQueue } from "../doubles";
import { attemptsOf, consume, createChannel, delivery, makeDelivery, runQueue, runSweep, target } from "../helpers";
import { committedThenLost, down } from "./d1-outage";

/** The channel's hourly counts, summed: deliveries succeeded, and attempts in the latency histogram. */
async function countsOf(channelId: string) {
  const { results } = await env.DB.prepare("select succeeded, latency from delivery_counts where channel_id = ?")
    .bind(channelId)
    .all<{ succeeded: number; latency: string }>();
  return {
    succeeded: results.reduce((n, r) => n + r.succeeded, 0),
    latencySamples: results.reduce((n, r) => n + (JSON.parse(r.latency) as (number | null)[]).reduce<number>((m, k) => m + (k ?? 0), 0), 0),
  };
}

beforeEach(async () => {
  // Each test decides which channels exist.
  await env.DB.prepare("delete from channels").run();
});

describe("the consumer under D1's trouble", () => {
  it("records an attempt once when D1 committed the write but reported it failed", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const flaky = committedThenLost();
    const result = await consume([deliveryId], { DB: flaky });
    expect(result.acked).toEqual(["msg-0"]);
    expect(flaky.batches()).toBe(2);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
    expect(await attemptsOf(deliveryId)).toHaveLength(1);
    // Counted once in the stats too: its end, and its latency.
    expect(await countsOf(channel.ID)).toEqual({ succeeded: 1, latencySamples: 1 });
  });

  it("counts a failed attempt's latency once when D1 committed the write but reported it failed", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const flaky = committedThenLost();
    await consume([deliveryId], { DB: flaky });
    expect(flaky.batches()).toBe(2);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", attempt_count: 1 });
    expect(await countsOf(channel.ID)).toEqual({ succeeded: 0, latencySamples: 1 });
  });

  it("sends a batch D1 cannot take back to the queue, later each time, without spending its retries or failing anything", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const queue = recordingQueue();
    const first = await consume([deliveryId], { DB: down(), DELIVERIES: queue });
    expect(first.retried).toEqual([]);
    expect(first.retriedBatch.retry).toBe(false);
    expect(queue.sent.flat()).toEqual([{ body: expect.objectContaining({ deliveryId, stalls: 1 }), delaySeconds: 10 }]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0 });

    // The same message, back for the second time: a longer wait.
    const second = recordingQueue();
    await runQueue("tyk-webhook-deliveries", [queue.sent.flat()[0]!.body as DeliveryMessage], { DB: down(), DELIVERIES: second });
    expect(second.sent.flat()[0]).toMatchObject({ body: { stalls: 2 }, delaySeconds: 20 });

    // D1 back: it is sent and recorded.
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
  });

  it("retries the batch (spending a retry) only when the queue refuses to take it back", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId], { DB: down(), DELIVERIES: recordingQueue(true) });
    expect(result.retriedBatch.retry).toBe(true);
  });

  it("never fails, from the dead-letter queue, a delivery whose result was never recorded", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    await runQueue<DeliveryMessage>("tyk-webhook-deliveries-dlq", [{ deliveryId, channelId: channel.ID, generation: 0 }]);
    // Still live: the sweeper sends it again once it is overdue.
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", last_error: null });
  });

  it("lets the sweeper run through a D1 outage without throwing, and catch up after", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID, undefined, Date.now() - 10 * 60_000);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const during = await runSweep({ DB: down() });
    expect(during.reclaimed).toEqual([]);
    expect((await delivery(deliveryId)).generation).toBe(0);
    const after = await runSweep({ DELIVERIES: recordingQueue() });
    expect(after.reclaimed.map((r) => r.deliveryId)).toContain(deliveryId);
  });
});

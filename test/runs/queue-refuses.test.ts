/** Deliveries committed to D1 whose queue message the queue refused: every caller still answers, and the sweeper sends them. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { appWith, consume, count, createChannel, delivery, makeDelivery, runSweep, target, uniqueUserRegistered } from "../helpers";
import { refusingEnv, SCHEDULE } from "./bindings";

describe("committed, then the queue refuses: the caller still answers, the sweeper sends it", () => {
  const { call, post } = appWith({ DELIVERIES: recordingQueue(true) });

  async function failedDelivery(channelId: string) {
    const made = await makeDelivery(channelId);
    await env.DB.prepare("update deliveries set status = 'failed', attempt_count = 1, next_attempt_at = null where id = ?").bind(made.deliveryId).run();
    return made;
  }

  it("intake: 202, the delivery pending in D1", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const res = await post(uniqueUserRegistered());
    expect(res.status).toBe(202);
    const { ID, Deliveries } = await res.json<{ ID: string; Deliveries: number }>();
    expect(Deliveries).toBeGreaterThanOrEqual(1);
    expect(await count("deliveries", "event_id = ? and channel_id = ? and status = 'pending'", ID, channel.ID)).toBe(1);
  });

  it("redeliver: 202, restarted in D1", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await failedDelivery(channel.ID);
    const res = await call("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    expect(res.status).toBe(202);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1 });
  });

  it("a channel's recover: 202 with the count, restarted in D1", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await failedDelivery(channel.ID);
    const res = await call("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: new Date(Date.now() - 60_000).toISOString() });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Requeued: 1 });
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1 });
  });

  it("recover across channels: 202 with the count, restarted in D1", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await failedDelivery(channel.ID);
    const res = await call("POST", "/portal-api/deliveries/recover", { Since: new Date(Date.now() - 60_000).toISOString(), WebhookID: channel.ID });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Requeued: 1 });
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1 });
  });

  it("resume: 200, the held deliveries pending in D1", async () => {
    const channel = await createChannel({ URL: target("ok"), Paused: true });
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set status = 'held' where id = ?").bind(deliveryId).run();
    const res = await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: false });
    expect(res.status).toBe(200);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1 });
  });

  it("the sweeper: reclaims in D1 and finishes its run", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID, undefined, Date.now() - 3600_000);
    const result = await runSweep(refusingEnv());
    expect(result.reclaimed.map((r) => r.deliveryId)).toContain(deliveryId);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1 });
  });

  it("the consumer: a raised event's deliveries are committed and the batch is acked", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const ops = await createChannel({ URL: target("ok"), Events: ["Dispatcher.DeliveryFailed"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set status = 'retrying', attempt_count = 2 where id = ?").bind(deliveryId).run();
    const result = await consume([deliveryId], { ...SCHEDULE, DELIVERIES: recordingQueue(true) });
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed" });
    expect(await count("deliveries", "channel_id = ? and status = 'pending'", ops.ID)).toBe(1);
  });
});

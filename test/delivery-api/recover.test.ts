/**
 * Recover: a channel's failed deliveries since a time queued again with a fresh schedule
 * (POST /portal-api/webhooks/{id}/recover), across channels (POST /portal-api/deliveries/recover),
 * and what a recover would send (DryRun).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settle } from "../delivery/delivering";
import { recordingQueue } from "../doubles";
import { ADMIN, api, consume, createChannel, delivery, makeDelivery, target } from "../helpers";

describe("POST /portal-api/webhooks/{id}/recover", () => {
  it("recover re-queues the channel's failed deliveries since a time, with a fresh schedule", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const since = Date.now() - 60_000;
    const old = await makeDelivery(channel.ID, undefined, since - 3600_000);
    const a = await makeDelivery(channel.ID);
    const b = await makeDelivery(channel.ID);
    const ok = await makeDelivery(channel.ID);
    await env.DB.batch([
      env.DB.prepare("update deliveries set status = 'failed', attempt_count = 8 where id = ?").bind(old.deliveryId),
      env.DB.prepare("update deliveries set status = 'failed', attempt_count = 8 where id in (?, ?)").bind(a.deliveryId, b.deliveryId),
      env.DB.prepare("update deliveries set status = 'succeeded' where id = ?").bind(ok.deliveryId),
    ]);

    const queue = recordingQueue();
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: new Date(since).toISOString() }, ADMIN, { DELIVERIES: queue });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Requeued: 2 });
    expect(queue.ids.sort()).toEqual([a.deliveryId, b.deliveryId].sort());
    expect(await delivery(a.deliveryId)).toMatchObject({ status: "pending", retry_base: 8, generation: 1 });
    expect((await delivery(old.deliveryId)).status).toBe("failed");

    // The fresh run retries by the schedule again rather than failing at once.
    const result = await consume([a.deliveryId]);
    expect(result.retried).toEqual(["msg-0"]);
    expect(await delivery(a.deliveryId)).toMatchObject({ status: "retrying", attempt_count: 9 });

    const bad = await api("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: "yesterday" });
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^Since: /);
  });
});

describe("recover with DryRun", () => {
  it("counts a channel's failed deliveries without touching them, as /deliveries/recover does", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set status = 'failed', attempt_count = 1 where id = ?").bind(deliveryId).run();
    const Since = new Date(Date.now() - 60_000).toISOString();
    const own = await api("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since, DryRun: true });
    const across = await api("POST", "/portal-api/deliveries/recover", { Since, WebhookID: channel.ID, DryRun: true });
    expect([own.status, await own.json()]).toEqual([200, { WouldRequeue: 1 }]);
    expect([across.status, await across.json()]).toEqual([200, { WouldRequeue: 1 }]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", generation: 0 });
  });

  it("refuses a window that ends before it starts", async () => {
    const res = await api("POST", "/portal-api/deliveries/recover", { Since: "2026-01-02T00:00:00Z", Until: "2026-01-01T00:00:00Z", DryRun: true });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ errors: ["Since: must be before Until"] });
  });
});

describe("POST /portal-api/deliveries/recover", () => {
  it("counts what a recover would send (DryRun), then sends exactly those", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const since = new Date(Date.now() - 1000).toISOString();
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const { deliveryId } = await makeDelivery(channel.ID);
      await settle(deliveryId);
      ids.push(deliveryId);
    }
    const dry = await api("POST", "/portal-api/deliveries/recover", { Since: since, WebhookID: channel.ID, DryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ WouldRequeue: 3 });
    expect((await delivery(ids[0]!)).status).toBe("failed");

    const queue = recordingQueue();
    const res = await api("POST", "/portal-api/deliveries/recover", { Since: since, WebhookID: channel.ID }, ADMIN, { DELIVERIES: queue });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Requeued: 3 });
    expect(queue.ids.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await delivery(id)).status).toBe("pending");
  });

  it("leaves out the deliveries of disabled channels and of types no longer subscribed", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const disabled = await createChannel({ URL: target("status/500") });
    await settle((await makeDelivery(disabled.ID)).deliveryId);
    await api("PATCH", `/portal-api/webhooks/${disabled.ID}`, { Enabled: false });
    const dropped = await createChannel({ URL: target("status/500"), Events: ["UserRegistered", "OrganisationRegistered"] });
    await settle((await makeDelivery(dropped.ID)).deliveryId);
    await api("PATCH", `/portal-api/webhooks/${dropped.ID}`, { Events: ["OrganisationRegistered"] });
    for (const id of [disabled.ID, dropped.ID]) {
      const dry = await api("POST", "/portal-api/deliveries/recover", { Since: since, WebhookID: id, DryRun: true });
      expect(await dry.json()).toEqual({ WouldRequeue: 0 });
    }
  });
});

/**
 * Health at a glance and alerts: GET /stats, the deliveries of every channel with bulk
 * recover, the dispatcher's operational events, and "send a test event".
 */
import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../src/db/records";
import { sweep } from "../src/sweeper/sweep";
import { recordingQueue } from "./doubles";
import { api, consume, count, createChannel, delivery, makeDelivery, makeDue, postEvent, receivedAt, seed, target, worker } from "./helpers";

const ONE_RETRY = { RETRY_SCHEDULE: "1" };
const HOUR = 60 * 60 * 1000;

/** Sends a delivery until it ends (at most two attempts with ONE_RETRY). */
async function settle(deliveryId: string) {
  await consume([deliveryId], ONE_RETRY);
  if ((await delivery(deliveryId)).status === "retrying") {
    await makeDue(deliveryId);
    await consume([deliveryId], ONE_RETRY);
  }
  return (await delivery(deliveryId)).status as string;
}

async function stats(query = "") {
  const res = await api("GET", `/portal-api/stats${query}`);
  expect(res.status).toBe(200);
  return res.json<any>();
}

/** A channel whose deliveries end 7 succeeded and 3 failed, all created `ago` ms ago. */
async function sevenAndThree(ago = 0) {
  const ok = target("ok");
  const channel = await createChannel({ URL: ok });
  const made = [];
  for (let i = 0; i < 10; i++) {
    made.push(await makeDelivery(channel.ID, undefined, Date.now() - ago));
  }
  for (const d of made.slice(0, 7)) expect(await settle(d.deliveryId)).toBe("succeeded");
  await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: target("status/500") });
  for (const d of made.slice(7)) expect(await settle(d.deliveryId)).toBe("failed");
  return { channel, made };
}

describe("GET /portal-api/stats", () => {
  it("counts 7 succeeded and 3 failed as a success rate of 0.7, with latency and the last error", async () => {
    const { channel } = await sevenAndThree();
    const body = await stats(`?webhook_id=${channel.ID}`);
    expect(body.Counts).toEqual({ pending: 0, retrying: 0, held: 0, succeeded: 7, failed: 3, cancelled: 0 });
    expect(body.SuccessRate).toBe(0.7);
    expect(body.LatencyMs.P50).toBeGreaterThanOrEqual(0);
    expect(body.LatencyMs.P95).toBeGreaterThanOrEqual(body.LatencyMs.P50);
    expect(body.Webhooks).toHaveLength(1);
    const row = body.Webhooks[0];
    expect(row).toMatchObject({ ID: channel.ID, Name: "CRM", SuccessRate: 0.7, LastError: "target answered 500" });
    expect(Date.now() - Date.parse(row.LastFailureAt)).toBeLessThan(60_000);
    // The default window is the last 24 hours, in at most 60 buckets that add up.
    expect(Date.parse(body.Until) - Date.parse(body.Since)).toBe(24 * HOUR);
    expect(body.Series.length).toBeLessThanOrEqual(60);
    const summed = body.Series.reduce((n: number, b: any) => n + b.Counts.succeeded, 0);
    expect(summed).toBe(7);
    // Beside the contract: each channel's [succeeded, failed] per bucket, for a sparkline.
    expect(row.Trend).toHaveLength(body.Series.length);
    expect(row.Trend.reduce((n: number[], [ok, bad]: number[]) => [n[0]! + ok!, n[1]! + bad!], [0, 0])).toEqual([7, 3]);
  });

  it("reads whole hours from the hourly counts and gives the same answer", async () => {
    const { channel } = await sevenAndThree(3 * HOUR);
    const rows = await env.DB.prepare("select sum(succeeded) as s, sum(failed) as f from delivery_counts where channel_id = ?").bind(channel.ID).first<any>();
    expect(rows).toEqual({ s: 7, f: 3 });
    const since = new Date(Date.now() - 6 * HOUR).toISOString();
    const body = await stats(`?webhook_id=${channel.ID}&since=${since}`);
    expect(body.Counts.succeeded).toBe(7);
    expect(body.Counts.failed).toBe(3);
    expect(body.SuccessRate).toBe(0.7);
    expect(body.LatencyMs.P50).not.toBeNull();
    expect(body.Webhooks[0].LastError).toBe("target answered 500");
    // Out of a window that ended before they were made.
    const before = await stats(`?webhook_id=${channel.ID}&since=${since}&until=${new Date(Date.now() - 4 * HOUR).toISOString()}`);
    expect(before.Counts.succeeded).toBe(0);
    expect(before.SuccessRate).toBeNull();
  });

  it("counts live deliveries, and moves a redelivered one out of failed", async () => {
    const { channel, made } = await sevenAndThree();
    await makeDelivery(channel.ID); // pending
    const failedId = made[9]!.deliveryId;
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: target("ok") });
    expect((await api("POST", `/portal-api/deliveries/${failedId}/redeliver`)).status).toBe(202);
    const body = await stats(`?webhook_id=${channel.ID}`);
    expect(body.Counts).toEqual({ pending: 2, retrying: 0, held: 0, succeeded: 7, failed: 2, cancelled: 0 });
    expect(await settle(failedId)).toBe("succeeded");
    expect((await stats(`?webhook_id=${channel.ID}`)).Counts.succeeded).toBe(8);
  });

  it("counts cancelled deliveries when a channel is deleted, and keeps them in the totals", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await makeDelivery(channel.ID);
    await makeDelivery(channel.ID);
    await api("DELETE", `/portal-api/webhooks/${channel.ID}`);
    const rows = await env.DB.prepare("select sum(cancelled) as n from delivery_counts where channel_id = ?").bind(channel.ID).first<any>();
    expect(rows.n).toBe(2);
    const all = await stats();
    const deleted = all.Webhooks.find((w: any) => w.ID === channel.ID);
    expect(deleted).toMatchObject({ Name: "CRM", Deleted: true, Counts: { cancelled: 2 } });
  });

  it("refuses a window that ends before it starts, and an unknown webhook", async () => {
    const res = await api("GET", "/portal-api/stats?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z");
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["since: must be before until"]);
    expect((await api("GET", "/portal-api/stats?webhook_id=nope")).status).toBe(404);
    expect((await api("GET", "/portal-api/stats?since=yesterday")).status).toBe(422);
  });
});

describe("GET /portal-api/deliveries and POST /portal-api/deliveries/recover", () => {
  it("lists every channel's deliveries newest first, filtered and paged", async () => {
    const a = await createChannel({ URL: target("ok"), Events: ["UserRegistered", "OrganisationRegistered"] });
    const b = await createChannel({ URL: target("status/500") });
    const first = await makeDelivery(a.ID);
    const second = await makeDelivery(b.ID);
    await settle(second.deliveryId);
    const third = await makeDelivery(a.ID);

    const newest = await (await api("GET", "/portal-api/deliveries?per_page=3")).json<any[]>();
    expect(newest.map((d) => d.ID)).toEqual([third.deliveryId, second.deliveryId, first.deliveryId]);
    const page2 = await (await api("GET", "/portal-api/deliveries?per_page=1&page=2")).json<any[]>();
    expect(page2.map((d) => d.ID)).toEqual([second.deliveryId]);

    const failed = await (await api("GET", `/portal-api/deliveries?status=failed&webhook_id=${b.ID}`)).json<any[]>();
    expect(failed.map((d) => d.ID)).toEqual([second.deliveryId]);
    expect(failed[0]).toMatchObject({ Status: "failed", LastError: "target answered 500", AttemptCount: 2, WebhookID: b.ID });
    const ofA = await (await api("GET", `/portal-api/deliveries?webhook_id=${a.ID}`)).json<any[]>();
    expect(ofA.map((d) => d.ID)).toEqual([third.deliveryId, first.deliveryId]);
    const byEvent = await (await api("GET", `/portal-api/deliveries?event_id=${first.eventId}`)).json<any[]>();
    expect(byEvent.map((d) => d.ID)).toEqual([first.deliveryId]);
    const byType = await (await api("GET", `/portal-api/deliveries?event_type=OrganisationRegistered&webhook_id=${a.ID}`)).json<any[]>();
    expect(byType).toEqual([]);
    const future = new Date(Date.now() + HOUR).toISOString();
    expect(await (await api("GET", `/portal-api/deliveries?since=${future}`)).json()).toEqual([]);
    // Beside the contract's fields, what a list shows: the channel's name (kept after a
    // delete), whether a redeliver can work, and the last attempt.
    expect(failed[0]).toMatchObject({ WebhookName: "CRM", WebhookDeleted: false, CanRedeliver: true, LastDurationMs: expect.any(Number) });
    expect(Date.now() - Date.parse(failed[0].LastAttemptAt)).toBeLessThan(60_000);
    await api("PATCH", `/portal-api/webhooks/${b.ID}`, { Name: "Billing", Enabled: false });
    expect((await (await api("GET", `/portal-api/deliveries?webhook_id=${b.ID}`)).json<any[]>())[0]).toMatchObject({
      WebhookName: "Billing",
      CanRedeliver: false,
    });
    await api("DELETE", `/portal-api/webhooks/${b.ID}`);
    const gone = await (await api("GET", `/portal-api/deliveries?webhook_id=${b.ID}`)).json<any[]>();
    expect(gone[0]).toMatchObject({ ID: second.deliveryId, WebhookName: "Billing", WebhookDeleted: true, CanRedeliver: false });
    const res = await api("GET", "/portal-api/deliveries?status=lost");
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^status: must be one of/);
  });

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
    const { app } = await import("../src/app");
    const res = await app.request(
      "/portal-api/deliveries/recover",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ Since: since, WebhookID: channel.ID }),
      },
      { ...env, DELIVERIES: queue },
    );
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

describe("operational events", () => {
  it("delivers Dispatcher.DeliveryFailed, signed, to a subscribed channel when a delivery fails for good", async () => {
    const crm = await createChannel({ Name: "CRM", URL: target("status/500") });
    const opsUrl = target("ok");
    const ops = await createChannel({ Name: "Ops", URL: opsUrl, Events: ["Dispatcher.DeliveryFailed"] });
    const { deliveryId, eventId } = await makeDelivery(crm.ID);
    expect(await settle(deliveryId)).toBe("failed");

    const raised = await env.DB.prepare("select id from deliveries where channel_id = ?").bind(ops.ID).all<{ id: string }>();
    expect(raised.results).toHaveLength(1);
    await consume([raised.results[0]!.id]);
    const [arrived] = await receivedAt(opsUrl);
    const { Secret } = await (await api("GET", `/portal-api/webhooks/${ops.ID}/secret`)).json<any>();
    const verified = new Webhook(Secret).verify(arrived!.body, arrived!.headers) as any;
    expect(verified.Event).toBe("Dispatcher.DeliveryFailed");
    expect(verified.Message).toEqual({
      DeliveryID: deliveryId,
      WebhookID: crm.ID,
      WebhookName: "CRM",
      EventID: eventId,
      EventType: "UserRegistered",
      Attempts: 2,
      LastStatusCode: 500,
      LastError: "target answered 500",
    });
    expect(Date.now() - Date.parse(verified.Timestamp)).toBeLessThan(60_000);
  });

  it("raises nothing when an operational event's own delivery fails: no loops", async () => {
    const crm = await createChannel({ URL: target("status/500") });
    const ops = await createChannel({ URL: target("status/500"), Events: ["Dispatcher.DeliveryFailed"] });
    await settle((await makeDelivery(crm.ID)).deliveryId);
    const before = await count("events", "type like 'Dispatcher.%'");
    const raised = await env.DB.prepare("select id from deliveries where channel_id = ?").bind(ops.ID).first<{ id: string }>();
    expect(await settle(raised!.id)).toBe("failed");
    expect(await count("events", "type like 'Dispatcher.%'")).toBe(before);
  });

  it("delivers Dispatcher.WebhookDisabled when a 410 disables a channel, and when 5 days of failures do", async () => {
    const gone = await createChannel({ Name: "Old CRM", URL: target("status/410") });
    const opsUrl = target("ok");
    const ops = await createChannel({ URL: opsUrl, Events: ["Dispatcher.WebhookDisabled"] });
    await consume([(await makeDelivery(gone.ID)).deliveryId]);
    expect((await api("GET", `/portal-api/webhooks/${gone.ID}`).then((r) => r.json<any>())).Enabled).toBe(false);
    const first = await env.DB.prepare("select id from deliveries where channel_id = ?").bind(ops.ID).first<{ id: string }>();
    await consume([first!.id]);
    const [arrived] = await receivedAt(opsUrl);
    expect(JSON.parse(arrived!.body).Message).toEqual({ WebhookID: gone.ID, WebhookName: "Old CRM", Reason: "the target answered 410 Gone" });

    const failing = await createChannel({ Name: "Flaky", URL: target("status/500") });
    await env.DB.prepare("update channels set failing_since = ? where id = ?")
      .bind(Date.now() - 6 * 24 * HOUR, failing.ID)
      .run();
    await sweep({ ...env, DELIVERIES: recordingQueue() as never });
    const messages = (
      await env.DB.prepare("select e.body from events e join deliveries d on d.event_id = e.id where d.channel_id = ? order by e.received_at")
        .bind(ops.ID)
        .all<{ body: string }>()
    ).results.map((r) => JSON.parse(r.body).Message);
    expect(messages.at(-1)).toMatchObject({ WebhookID: failing.ID, WebhookName: "Flaky", Reason: expect.stringMatching(/^every delivery failed for 5 days/) });
  });

  it("raises Dispatcher.DeliveryFailed for a dead-lettered delivery", async () => {
    const crm = await createChannel({ URL: target("ok") });
    const ops = await createChannel({ URL: target("ok"), Events: ["Dispatcher.DeliveryFailed"] });
    const { deliveryId } = await makeDelivery(crm.ID);
    await env.DB.prepare("update deliveries set status = 'retrying', attempt_count = 1 where id = ?").bind(deliveryId).run();
    const batch = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries-dlq", [
      { id: "d", timestamp: new Date(), attempts: 1, body: { deliveryId, channelId: crm.ID, generation: 0 } },
    ]);
    await worker.queue(batch, env, createExecutionContext());
    const raised = await env.DB.prepare("select e.body from events e join deliveries d on d.event_id = e.id where d.channel_id = ?")
      .bind(ops.ID)
      .first<{ body: string }>();
    expect(JSON.parse(raised!.body).Message).toMatchObject({
      DeliveryID: deliveryId,
      LastError: "dead-lettered: the consumer failed on it too many times",
      Attempts: 1,
    });
  });

  it("are listed in event-types, and the portal cannot post them", async () => {
    const types = await (await api("GET", "/portal-api/event-types")).json<string[]>();
    expect(types).toContain("Dispatcher.DeliveryFailed");
    const res = await postEvent(JSON.stringify({ Event: "Dispatcher.DeliveryFailed", Message: {}, Timestamp: new Date().toISOString() }));
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^Event: must be one of UserRegistered/);
  });
});

describe("POST /portal-api/webhooks/{id}/test-event", () => {
  it("sends the type's sample payload through the channel as a delivery goes, and records nothing", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Method: "PUT", Headers: [{ Name: "X-Api-Key", Value: "crm-key-123" }] });
    const before = { events: await count("events"), deliveries: await count("deliveries") };
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "AccessRequestCreated" });
    expect(res.status).toBe(200);
    const result = await res.json<any>();
    expect(result).toMatchObject({ Success: true, StatusCode: 200, Error: null, ResponseBody: "ok" });
    expect(result.DurationMs).toBeGreaterThanOrEqual(0);

    const [arrived] = await receivedAt(url);
    expect(arrived!.method).toBe("PUT");
    expect(arrived!.headers["x-api-key"]).toBe("crm-key-123");
    const { Secret } = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    const sent = new Webhook(Secret).verify(arrived!.body, arrived!.headers) as any;
    const sample = JSON.parse(seed.find((s) => s.type === "AccessRequestCreated")!.body);
    expect(sent.Event).toBe("AccessRequestCreated");
    expect(sent.Message).toEqual(sample.Message);
    expect(Date.now() - Date.parse(sent.Timestamp)).toBeLessThan(60_000);
    expect({ events: await count("events"), deliveries: await count("deliveries") }).toEqual(before);
  });

  it("answers what a failing target said, its echoed secrets masked", async () => {
    const channel = await createChannel({ URL: target("echo/503"), Headers: [{ Name: "X-Api-Key", Value: "crm-key-456" }] });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserRegistered" })).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: 503, Error: "target answered 503" });
    expect(result.ResponseBody).toContain("x-api-key: [redacted]");
  });

  it("refuses an unknown type, naming the field", async () => {
    const channel = await createChannel();
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserDeleted" });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^Event: must be one of/);
  });
});

/**
 * The dispatcher's own events (Dispatcher.DeliveryFailed, Dispatcher.WebhookDisabled):
 * when they are raised, what they carry, delivered like any event, and never looping.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "../../src/db/records";
import { settle } from "../delivery/delivering";
import { recordingQueue } from "../doubles";
import { api, consume, count, createChannel, makeDelivery, postEvent, receivedAt, runQueue, runSweep, target } from "../helpers";

const HOUR = 60 * 60 * 1000;

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
    await runSweep({ DELIVERIES: recordingQueue() });
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
    await runQueue<DeliveryMessage>("tyk-webhook-deliveries-dlq", [{ deliveryId, channelId: crm.ID, generation: 0 }]);
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

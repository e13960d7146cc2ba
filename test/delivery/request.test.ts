/**
 * The request a delivery sends: the stored body byte for byte, its headers and signature
 * (secret rotation included), and a delivery whose request cannot be built.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { api, attemptsOf, consume, count, createChannel, delivery, makeDelivery, makeDue, receivedAt, seed, target } from "../helpers";
import { secretOf } from "./delivering";

describe("the request", () => {
  it("sends the stored body byte for byte, with custom headers, and a signature the standardwebhooks package verifies", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Method: "PUT", Headers: [{ Name: "X-Api-Key", Value: "k-1" }] });
    const body = seed[6]!.body; // AccessRequestCreated, with its zero values
    const { deliveryId, eventId } = await makeDelivery(channel.ID, body);

    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);

    const [req, ...more] = await receivedAt(url);
    expect(more).toHaveLength(0);
    expect(req!.method).toBe("PUT");
    expect(req!.body).toBe(body);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["user-agent"]).toMatch(/^tyk-webhook-dispatcher\/\d+\.\d+\.\d+$/);
    expect(req!.headers["x-api-key"]).toBe("k-1");
    expect(req!.headers["webhook-id"]).toBe(eventId);
    expect(Math.abs(Number(req!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);

    const { Secret } = await secretOf(channel.ID);
    expect(new Webhook(Secret).verify(req!.body, req!.headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(`whsec_${btoa("x".repeat(32))}`).verify(req!.body, req!.headers)).toThrow();

    const row = await delivery(deliveryId);
    expect(row).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200, last_error: null, next_attempt_at: null });
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt).toMatchObject({ attempt: 1, status_code: 200, error: null, response_body: "ok" });
  });

  it("signs with both secrets during a rotation, each verifying on its own", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const old = (await secretOf(channel.ID)).Secret;
    await api("POST", `/portal-api/webhooks/${channel.ID}/secret/rotate`);
    const fresh = (await secretOf(channel.ID)).Secret;
    const { deliveryId } = await makeDelivery(channel.ID);

    await consume([deliveryId]);
    const [req] = await receivedAt(url);
    expect(req!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Webhook(old).verify(req!.body, req!.headers)).not.toThrow();
    expect(() => new Webhook(fresh).verify(req!.body, req!.headers)).not.toThrow();
  });

  it("stops signing with the old secret once its 24 hours are over", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    await api("POST", `/portal-api/webhooks/${channel.ID}/secret/rotate`);
    await env.DB.prepare("update channels set previous_secret_expires_at = ? where id = ?")
      .bind(Date.now() - 1, channel.ID)
      .run();
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [req] = await receivedAt(url);
    expect(req!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  });

  it("keeps the same webhook-id on every retry", async () => {
    const url = target("flaky/1");
    const channel = await createChannel({ URL: url });
    const { deliveryId, eventId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    await makeDue(deliveryId);
    await consume([deliveryId]);
    const reqs = await receivedAt(url);
    expect(reqs.map((r) => r.headers["webhook-id"])).toEqual([eventId, eventId]);
  });
});

describe("a delivery whose request cannot be built", () => {
  it("a payload its chat format cannot render ends failed at once, with the reason, and raises DeliveryFailed", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Format: "slack" });
    const ops = await createChannel({ URL: target("ok"), Events: ["Dispatcher.DeliveryFailed"] });
    // Stored bytes that are not JSON: nothing can render them as a chat message.
    const { deliveryId } = await makeDelivery(channel.ID, '{"Event": "UserRegistered", "Message": ');
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    const row = await delivery(deliveryId);
    expect(row).toMatchObject({ status: "failed", attempt_count: 1, last_status_code: null, next_attempt_at: null });
    expect(row.last_error).toMatch(/^Format slack: this event cannot be rendered: /);
    expect(await attemptsOf(deliveryId)).toMatchObject([{ attempt: 1, status_code: null, error: row.last_error }]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect(await count("deliveries", "channel_id = ? and event_type = 'Dispatcher.DeliveryFailed'", ops.ID)).toBe(1);
  });

  it.each(["slack", "teams", "discord"])("renders values that are objects with a toString key as plain text (%s)", async (format) => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Format: format, Events: ["RegisterInvite"] });
    const body = JSON.stringify({
      Event: "RegisterInvite",
      Message: { Team: { toString: 1 }, Email: { toString: "x" }, Roles: [{ toString: null }], First: { valueOf: 2 } },
      Timestamp: new Date().toISOString(),
    });
    const { deliveryId } = await makeDelivery(channel.ID, body);
    await env.DB.prepare("update deliveries set event_type = 'RegisterInvite' where id = ?").bind(deliveryId).run();
    await env.DB.prepare("update events set type = 'RegisterInvite' where body = ?").bind(body).run();
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
    const [req] = await receivedAt(url);
    expect(() => JSON.parse(req!.body)).not.toThrow();
  });
});

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, inject, it, vi } from "vitest";
import { app } from "../src/app";
import type { DeliveryMessage } from "../src/db/records";
import { sweep } from "../src/sweeper/sweep";
import { countingD1, recordingQueue } from "./doubles";
import { ADMIN, api, attemptsOf, consume, count, createChannel, delivery, makeDelivery, makeDue, postEvent, receivedAt, seed, target, worker } from "./helpers";

async function secretOf(channelId: string): Promise<{ Secret: string; PreviousSecret: string | null }> {
  return (await api("GET", `/portal-api/webhooks/${channelId}/secret`)).json();
}

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

describe("retries and outcomes", () => {
  it("fails twice then succeeds: 3 attempts logged, retried with the schedule's delays", async () => {
    const url = target("flaky/2");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);

    const first = await consume([deliveryId]);
    expect(first.retried).toEqual(["msg-0"]);
    expect(first.delays[0]).toBeGreaterThanOrEqual(4); // 5 s ± 20%
    expect(first.delays[0]).toBeLessThanOrEqual(6);
    const afterFirst = await delivery(deliveryId);
    expect(afterFirst).toMatchObject({ status: "retrying", attempt_count: 1, last_status_code: 500, last_error: "target answered 500" });
    expect(afterFirst.next_attempt_at).toBeGreaterThan(Date.now() + 3000);

    // Not due yet: a message arriving early goes back for the rest of the wait, unsent.
    const early = await consume([deliveryId]);
    expect(early.retried).toEqual(["msg-0"]);
    expect(await receivedAt(url)).toHaveLength(1);

    await makeDue(deliveryId);
    const second = await consume([deliveryId]);
    expect(second.delays[0]).toBeGreaterThanOrEqual(240); // 300 s ± 20%
    expect(second.delays[0]).toBeLessThanOrEqual(360);

    await makeDue(deliveryId);
    const third = await consume([deliveryId]);
    expect(third.acked).toEqual(["msg-0"]);

    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 3, last_status_code: 200, last_error: null });
    const attempts = await attemptsOf(deliveryId);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.response_body])).toEqual([
      [1, 500, "failure 1"],
      [2, 500, "failure 2"],
      [3, 200, "ok"],
    ]);
    expect(attempts.every((a) => a.duration_ms >= 0 && a.started_at > 0)).toBe(true);
  });

  it("gives up after the channel's Timeout and retries", async () => {
    const channel = await createChannel({ URL: target("sleep/3000"), Timeout: 1 });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.retried).toEqual(["msg-0"]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBeNull();
    expect(attempt.error).toBe("timeout: timed out after 1s");
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(900);
    expect(attempt.duration_ms).toBeLessThan(2900);
    expect((await delivery(deliveryId)).status).toBe("retrying");
  });

  it("retries when the connection is refused", async () => {
    const channel = await createChannel({ URL: `http://127.0.0.1:${inject("closedPort")}/hook` });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.retried).toEqual(["msg-0"]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBeNull();
    expect(attempt.error).toMatch(/^connection: /);
  });

  it("does not follow a redirect: a 3xx is a failure", async () => {
    const url = target("redirect");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.retried).toEqual(["msg-0"]);
    expect((await attemptsOf(deliveryId))[0].status_code).toBe(302);
    expect(await receivedAt(url.replace("/redirect/", "/ok/"))).toHaveLength(0);
  });

  it("disables the channel on 410 Gone and stops", async () => {
    const channel = await createChannel({ URL: target("status/410") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", last_status_code: 410 });
    const after = await (await api("GET", `/portal-api/webhooks/${channel.ID}`)).json<any>();
    expect(after.Enabled).toBe(false);
    expect(after.DisabledReason).toMatch(/410/);
  });

  it("waits at least Retry-After on a 429 (seconds)", async () => {
    const channel = await createChannel({ URL: `${target("status/429")}?retry_after=120` });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.delays[0]).toBe(120);
    const row = await delivery(deliveryId);
    expect(row.next_attempt_at - Date.now()).toBeGreaterThan(110_000);
  });

  it("waits at least Retry-After on a 503 (HTTP date), capped at 24 hours", async () => {
    const inTwoDays = new Date(Date.now() + 2 * 86400_000).toUTCString();
    const channel = await createChannel({ URL: `${target("status/503")}?retry_after=${encodeURIComponent(inTwoDays)}` });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    // The queue waits at most 12 hours at a time; D1 holds the full 24.
    expect(result.delays[0]).toBe(12 * 3600);
    const row = await delivery(deliveryId);
    expect(Math.round((row.next_attempt_at - Date.now()) / 3600_000)).toBe(24);
  });

  it("marks the delivery failed when the schedule runs out", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const short = { RETRY_SCHEDULE: "1,1" };
    expect((await consume([deliveryId], short)).retried).toEqual(["msg-0"]);
    await makeDue(deliveryId);
    expect((await consume([deliveryId], short)).retried).toEqual(["msg-0"]);
    await makeDue(deliveryId);
    expect((await consume([deliveryId], short)).acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", attempt_count: 3, last_status_code: 500 });
    expect(await attemptsOf(deliveryId)).toHaveLength(3);
  });

  it("cancels, without sending, when the channel was deleted or disabled meanwhile", async () => {
    const url = target("ok");
    const deleted = await createChannel({ URL: url });
    const disabled = await createChannel({ URL: url });
    const a = await makeDelivery(deleted.ID);
    const b = await makeDelivery(disabled.ID);
    await api("DELETE", `/portal-api/webhooks/${deleted.ID}`);
    // DELETE already cancelled a's delivery; put it back to see the consumer's own check.
    await env.DB.prepare("update deliveries set status = 'pending' where id = ?").bind(a.deliveryId).run();
    await api("PATCH", `/portal-api/webhooks/${disabled.ID}`, { Enabled: false });

    const result = await consume([a.deliveryId, b.deliveryId]);
    expect(result.acked.sort()).toEqual(["msg-0", "msg-1"]);
    expect(await delivery(a.deliveryId)).toMatchObject({ status: "cancelled", last_error: "webhook deleted" });
    expect(await delivery(b.deliveryId)).toMatchObject({ status: "cancelled", last_error: "webhook disabled" });
    expect(await receivedAt(url)).toHaveLength(0);
  });

  it("drops a message of an older generation (the sweeper or an admin sent a newer one)", async () => {
    const url = target("status/500");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set generation = 2 where id = ?").bind(deliveryId).run();
    const stale = await consume([deliveryId], {}, [1]);
    expect(stale.acked).toEqual(["msg-0"]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0 });
    // A retry keeps its generation: the current message still sends, and may retry.
    expect((await consume([deliveryId], {}, [2])).retried).toEqual(["msg-0"]);
    expect(await receivedAt(url)).toHaveLength(1);
  });

  it("acks a duplicate message of a succeeded delivery without sending again", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const again = await consume([deliveryId, deliveryId]);
    expect(again.acked.sort()).toEqual(["msg-0", "msg-1"]);
    expect(await receivedAt(url)).toHaveLength(1);
    expect(await attemptsOf(deliveryId)).toHaveLength(1);
  });

  it("sends once for two copies of one message in the same batch, and acks both", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId, deliveryId]);
    expect(result.acked.sort()).toEqual(["msg-0", "msg-1"]);
    expect(await receivedAt(url)).toHaveLength(1);
    expect(await attemptsOf(deliveryId)).toHaveLength(1);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
  });

  it("checks the target URL again before sending", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId], { ALLOW_PRIVATE_TARGETS: "false" });
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed" });
    expect((await delivery(deliveryId)).last_error).toMatch(/^URL must not target a loopback address/);
    expect(await receivedAt(url)).toHaveLength(0);
  });

  it("keeps only the first KiB of a response", async () => {
    const channel = await createChannel({ URL: target("big") });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    expect((await attemptsOf(deliveryId))[0].response_body).toBe("x".repeat(1024));
  });

  it("keeps the last 100 attempts of a delivery sent again and again, and counts them all", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const old = Array.from({ length: 100 }, (_, i) => ({ attempt: i + 1, startedAt: 1, durationMs: 1, statusCode: 500, error: null, responseBody: null }));
    await env.DB.prepare("update deliveries set attempts = ?, attempt_count = 100, retry_base = 100 where id = ?").bind(JSON.stringify(old), deliveryId).run();
    await consume([deliveryId]);
    const kept = await attemptsOf(deliveryId);
    expect(kept).toHaveLength(100);
    expect(kept[0].attempt).toBe(2);
    expect(kept[99]).toMatchObject({ attempt: 101, status_code: 200 });
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 101 });
  });
});

describe("a receiver that answers oddly", () => {
  it("a 2xx whose body is slow is a success: decided on the status, the excerpt is what arrived in time", async () => {
    const url = target("slowbody/3000");
    const channel = await createChannel({ URL: url, Timeout: 1 });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200, last_error: null });
    expect(await attemptsOf(deliveryId)).toMatchObject([{ attempt: 1, status_code: 200, error: null, response_body: "a" }]);
    expect(await receivedAt(url)).toHaveLength(1);
  });

  it("test-event: a 2xx whose body is slow is a success too", async () => {
    const channel = await createChannel({ URL: target("slowbody/3000"), Timeout: 1 });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserRegistered" });
    expect(await res.json()).toMatchObject({ Success: true, StatusCode: 200, Error: null, ResponseBody: "a" });
  });

  it.each(["100", "102", "103"])("an interim %s before the 200 is never the final status", async (code) => {
    const url = target(`interim/${code}`);
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200 });
    expect(await attemptsOf(deliveryId)).toMatchObject([{ status_code: 200, error: null, response_body: "ok after interim" }]);
    expect(await receivedAt(url)).toHaveLength(1);
  });
});

describe("a receiver that answers late after an interim response", () => {
  it("102 Processing, then 200 seconds later but within the timeout, is a success", async () => {
    const url = target("interimslow/2500");
    const channel = await createChannel({ URL: url, Timeout: 10 });
    const { deliveryId } = await makeDelivery(channel.ID);
    expect((await consume([deliveryId])).acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200 });
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt).toMatchObject({ status_code: 200, response_body: "ok after a wait" });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(2000);
  });

  it("102 Processing and no final answer within the timeout is a timeout", async () => {
    const channel = await createChannel({ URL: target("interimslow/5000"), Timeout: 1 });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", last_status_code: null });
    expect((await delivery(deliveryId)).last_error).toMatch(/^timeout: the target sent an interim 102 response and no final one within the timeout \(1s\)$/);
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

describe("a batch", () => {
  it("a delivery whose secrets cannot be decrypted is a failed attempt with the reason; the rest of its batch is delivered", async () => {
    const url = target("ok");
    const good = await createChannel({ URL: url });
    const broken = await createChannel({ URL: url });
    // A secret this deployment cannot decrypt makes that delivery throw.
    await env.DB.prepare("update channels set secret = 'enc1:deadbeef:AAAA' where id = ?").bind(broken.ID).run();
    const ok1 = await makeDelivery(good.ID);
    const bad = await makeDelivery(broken.ID);
    const ok2 = await makeDelivery(good.ID);

    const result = await consume([ok1.deliveryId, bad.deliveryId, ok2.deliveryId]);
    expect(result.acked.sort()).toEqual(["msg-0", "msg-2"]);
    expect(result.retried).toEqual(["msg-1"]);
    expect((await delivery(ok1.deliveryId)).status).toBe("succeeded");
    expect((await delivery(ok2.deliveryId)).status).toBe("succeeded");
    // A fault of configuration: the retry schedule runs (a fixed ENCRYPTION_KEY can cure it).
    expect(await delivery(bad.deliveryId)).toMatchObject({ status: "retrying", attempt_count: 1, last_status_code: null });
    expect((await delivery(bad.deliveryId)).last_error).toMatch(
      /^the webhook's secrets could not be decrypted \(is ENCRYPTION_KEY the key they were stored with\?\): /,
    );
    const [attempt] = await attemptsOf(bad.deliveryId);
    expect(attempt).toMatchObject({ attempt: 1, status_code: null, duration_ms: 0 });
    expect(attempt.error).toBe((await delivery(bad.deliveryId)).last_error);
    expect(result.delays[1]).toBeGreaterThanOrEqual(4); // the schedule's first step, 5 s ± 20%
    expect(await receivedAt(url)).toHaveLength(2);
  });

  it("makes 2 D1 round trips for a batch of 10, one read and one write, and writes 1 or 2 rows per attempt", async () => {
    const channels = await Promise.all([createChannel({ URL: target("ok") }), createChannel({ URL: target("status/500") })]);
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await makeDelivery(channels[i % 2]!.ID)).deliveryId);
    const { db, counter } = countingD1(env.DB);
    const result = await consume(ids, { DB: db });
    expect(result.acked).toHaveLength(5);
    expect(result.retried).toHaveLength(5);
    expect(counter.roundTrips).toBe(2);
    // Rows D1 bills: a success rewrites its delivery's row (1; it leaves the live index),
    // a retry its row and its live-index entry (2); the failing channel starts its streak
    // (its row and its entry in the failing-channels index: 2). The attempt log is in the
    // row: it costs nothing more. The stats' counts: one row per channel and hour of
    // creation the batch touches (2 here), however many deliveries end.
    expect(counter.rowsWritten).toBe(5 * 1 + 5 * 2 + 2 + 2);
  });
});

describe("the dead-letter queue", () => {
  it("marks its deliveries failed with the reason", async () => {
    const channel = await createChannel();
    const { deliveryId } = await makeDelivery(channel.ID);
    // An attempt of this run was recorded (one never recorded is not failed: test/outage.test.ts).
    await env.DB.prepare("update deliveries set status = 'retrying', attempt_count = 1 where id = ?").bind(deliveryId).run();
    const batch = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries-dlq", [
      { id: "dlq-0", timestamp: new Date(), attempts: 1, body: { deliveryId, channelId: channel.ID } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", last_error: expect.stringMatching(/^dead-lettered/) });
  });

  it("leaves a delivery alone when the dead letter was of an older generation", async () => {
    const channel = await createChannel();
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set generation = 1 where id = ?").bind(deliveryId).run();
    const batch = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries-dlq", [
      { id: "dlq-0", timestamp: new Date(), attempts: 1, body: { deliveryId, generation: 0 } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await getQueueResult(batch, ctx);
    expect((await delivery(deliveryId)).status).toBe("pending");
  });
});

describe("the sweeper", () => {
  it("re-enqueues deliveries whose queue message was lost, once per grace period", async () => {
    const channel = await createChannel();
    const lostPending = await makeDelivery(channel.ID);
    const lostRetrying = await makeDelivery(channel.ID);
    const fresh = await makeDelivery(channel.ID);
    const now = Date.now();
    // Lost: due long ago, and nothing has touched them since.
    await env.DB.prepare("update deliveries set next_attempt_at = ?1, updated_at = ?1 where id = ?2")
      .bind(now - 3 * 60_000, lostPending.deliveryId)
      .run();
    await env.DB.prepare("update deliveries set status = 'retrying', next_attempt_at = ?1, updated_at = ?1 - 5000 where id = ?2")
      .bind(now - 6 * 60_000, lostRetrying.deliveryId)
      .run();

    const queue = recordingQueue();
    const { reclaimed } = await sweep({ ...env, DELIVERIES: queue as never }, now);
    const ids = reclaimed.map((m) => m.deliveryId);
    expect(ids).toEqual(expect.arrayContaining([lostPending.deliveryId, lostRetrying.deliveryId]));
    expect(ids).not.toContain(fresh.deliveryId);
    expect(queue.sent.flat().map((m) => m.body)).toEqual(reclaimed);
    expect(await delivery(lostPending.deliveryId)).toMatchObject({ next_attempt_at: now, generation: 1 });
    expect(reclaimed.find((m) => m.deliveryId === lostPending.deliveryId)!.generation).toBe(1);

    // Not again after one grace period: each reclaim doubles the wait.
    const again = await sweep({ ...env, DELIVERIES: recordingQueue() as never }, now + 3 * 60_000);
    expect(again.reclaimed.map((m) => m.deliveryId)).not.toContain(lostPending.deliveryId);
    const later = await sweep({ ...env, DELIVERIES: recordingQueue() as never }, now + 5 * 60_000);
    expect(later.reclaimed.map((m) => m.deliveryId)).toContain(lostPending.deliveryId);
  });

  it("purges events and deliveries (with their attempts) older than RETENTION_DAYS", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const old = await makeDelivery(channel.ID, undefined, Date.now() - 31 * 86400_000);
    const recent = await makeDelivery(channel.ID);
    await consume([old.deliveryId, recent.deliveryId]);
    await sweep({ ...env, DELIVERIES: recordingQueue() as never });
    expect(await count("events", "id = ?", old.eventId)).toBe(0);
    expect(await count("deliveries", "id = ?", old.deliveryId)).toBe(0);
    expect(await count("events", "id = ?", recent.eventId)).toBe(1);
    expect(await attemptsOf(recent.deliveryId)).toHaveLength(1);
  });

  it("disables a channel whose deliveries have all failed for 5 days", async () => {
    const failing = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(failing.ID);
    await consume([deliveryId]);
    expect((await env.DB.prepare("select failing_since from channels where id = ?").bind(failing.ID).first<any>()).failing_since).toBeGreaterThan(0);
    const healthy = await createChannel();

    await env.DB.prepare("update channels set failing_since = ? where id = ?")
      .bind(Date.now() - 5 * 86400_000 - 1000, failing.ID)
      .run();
    const { disabledChannels } = await sweep({ ...env, DELIVERIES: recordingQueue() as never });
    expect(disabledChannels.map((c) => c.id)).toContain(failing.ID);
    expect(disabledChannels.map((c) => c.id)).not.toContain(healthy.ID);
    const after = await (await api("GET", `/portal-api/webhooks/${failing.ID}`)).json<any>();
    expect(after.Enabled).toBe(false);
    expect(after.DisabledReason).toMatch(/^every delivery failed for 5 days/);
  });

  it("a success ends a failure streak", async () => {
    const channel = await createChannel({ URL: target("flaky/1") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const failingSince = async () => (await env.DB.prepare("select failing_since from channels where id = ?").bind(channel.ID).first<any>()).failing_since;
    await consume([deliveryId]);
    expect(await failingSince()).toBeGreaterThan(0);
    await makeDue(deliveryId);
    await consume([deliveryId]);
    expect(await failingSince()).toBeNull();
  });
});

describe("admin routes for deliveries", () => {
  const withQueue = (queue: ReturnType<typeof recordingQueue>) => ({ ...env, DELIVERIES: queue });

  it("lists a channel's deliveries newest first, filtered by status, and shows one with its attempts", async () => {
    const channel = await createChannel({ URL: target("flaky/1") });
    const first = await makeDelivery(channel.ID);
    await new Promise((r) => setTimeout(r, 5));
    const second = await makeDelivery(channel.ID);
    // One at a time: the target fails only its first request.
    await consume([first.deliveryId]);
    await consume([second.deliveryId]);

    const all = await (await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries`)).json<any[]>();
    expect(all.map((d) => d.ID)).toEqual([second.deliveryId, first.deliveryId]);
    expect(all[0]).toMatchObject({
      EventID: second.eventId,
      WebhookID: channel.ID,
      EventType: "UserRegistered",
      Status: "succeeded",
      AttemptCount: 1,
      LastStatusCode: 200,
    });

    const retrying = await (await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?status=retrying`)).json<any[]>();
    expect(retrying.map((d) => d.ID)).toEqual([first.deliveryId]);
    expect(retrying[0].NextAttemptAt).toMatch(/Z$/);

    const bad = await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?status=lost`);
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^status: /);

    const one = await (await api("GET", `/portal-api/deliveries/${first.deliveryId}`)).json<any>();
    expect(one.Attempts).toEqual([
      {
        Attempt: 1,
        StartedAt: expect.stringMatching(/Z$/),
        DurationMs: expect.any(Number),
        StatusCode: 500,
        Error: "target answered 500",
        ResponseBody: "failure 1",
      },
    ]);
    expect((await api("GET", "/portal-api/deliveries/nope")).status).toBe(404);
  });

  it("redeliver sends a delivery again now, even one that succeeded", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);

    const queue = recordingQueue();
    const res = await app.request(`/portal-api/deliveries/${deliveryId}/redeliver`, { method: "POST", headers: ADMIN }, withQueue(queue));
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
    const res = await app.request(`/portal-api/deliveries/${deliveryId}/redeliver`, { method: "POST", headers: ADMIN }, withQueue(recordingQueue()));
    expect(res.status).toBe(409);
    expect((await res.json<any>()).errors[0]).toMatch(/^Enabled: /);
  });

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
    const res = await app.request(
      `/portal-api/webhooks/${channel.ID}/recover`,
      { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ Since: new Date(since).toISOString() }) },
      withQueue(queue),
    );
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
    expect(await res.json()).toEqual({ errors: ["Until: must be after Since"] });
  });
});

describe("end to end", () => {
  it("intake → queue → consumer → a real local receiver gets the exact bytes, signed", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Events: ["OrganisationRequestCreated"] });
    const body = seed.find((s) => s.type === "OrganisationRequestCreated")!.body;
    const posted = await postEvent(body, { "Idempotency-Key": crypto.randomUUID() });
    expect(posted.status).toBe(202);
    const { ID } = await posted.json<any>();

    await vi.waitFor(
      async () => {
        const [row] = (await env.DB.prepare("select status from deliveries where event_id = ?").bind(ID).all<any>()).results;
        expect(row.status).toBe("succeeded");
      },
      { timeout: 10_000, interval: 50 },
    );
    const [req] = await receivedAt(url);
    expect(req!.body).toBe(body);
    const { Secret } = await secretOf(channel.ID);
    expect(() => new Webhook(Secret).verify(req!.body, req!.headers)).not.toThrow();

    const event = await (await api("GET", `/portal-api/events/${ID}`)).json<any>();
    expect(event).toMatchObject({ ID, Type: "OrganisationRequestCreated", Payload: JSON.parse(body) });
    expect(event.Deliveries).toHaveLength(1);
    expect(event.Deliveries[0]).toMatchObject({ WebhookID: channel.ID, Status: "succeeded" });
  });
});

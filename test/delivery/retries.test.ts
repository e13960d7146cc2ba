/**
 * What an attempt comes to and what follows: retries on the schedule, timeouts, refused
 * connections, redirects, 410 Gone, Retry-After, the schedule running out; messages the
 * consumer drops or acks without sending; the attempt log's limits.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { api, attemptsOf, consume, createChannel, delivery, makeDelivery, makeDue, receivedAt, target } from "../helpers";

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

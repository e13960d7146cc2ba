/**
 * A delivery's runs (generation-checked writes, src/db/current-run.ts): what an admin starts
 * while an attempt is in flight (redeliver, delete, disable, unsubscribe, pause), and a late
 * result that must change nothing of the newer run.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import { recordBatch } from "../../src/delivery/batch-sql";
import { CountChanges } from "../../src/stats/counters";
import { recordingQueue } from "../doubles";
import { ADMIN, api, attemptsOf, consume, count, createChannel, delivery, makeDelivery, receivedAt, target } from "../helpers";
import { SCHEDULE } from "./bindings";

/** Starts consuming the delivery; resolves once its request is held at the target, with the consumer's run to await. */
async function attemptInFlight(url: string, deliveryId: string) {
  const consumed = consume([deliveryId], SCHEDULE);
  await vi.waitFor(async () => expect(await receivedAt(url)).toHaveLength(1), { timeout: 10_000, interval: 20 });
  return { consumed };
}

/** Lets the held request answer (with the status its /hold/<code>/ path names). */
async function release(url: string) {
  const { pathname } = new URL(url);
  const res = await fetch(`http://127.0.0.1:${inject("receiverPort")}/__release?path=${encodeURIComponent(pathname)}`);
  expect(res.status).toBe(200);
}

/** The stats' ended counts of a channel, over every hour. */
async function endedCounts(channelId: string) {
  return env.DB.prepare(
    "select coalesce(sum(succeeded), 0) as succeeded, coalesce(sum(failed), 0) as failed, coalesce(sum(cancelled), 0) as cancelled from delivery_counts where channel_id = ?",
  )
    .bind(channelId)
    .first<{ succeeded: number; failed: number; cancelled: number }>();
}

/**
 * An admin's redeliver whose queue message is kept aside (recorded, not consumed): the
 * test sends the delivery itself, so the runtime's own consumer never adds an attempt.
 */
const redeliverHeld = (deliveryId: string) => api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`, undefined, ADMIN, { DELIVERIES: recordingQueue() });

const failureEventsFor = (deliveryId: string) => count("events", "type = 'Dispatcher.DeliveryFailed' and body like ?", `%${deliveryId}%`);

describe("a late result never undoes a newer run", () => {
  it("redeliver during the last attempt: the late 500 is logged, the delivery stays in the new run, nothing fails", async () => {
    const url = target("hold/500");
    const channel = await createChannel({ URL: url });
    await createChannel({ URL: target("ok"), Events: ["Dispatcher.DeliveryFailed"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    // Two attempts failed already: the one in flight is the schedule's last.
    await env.DB.prepare("update deliveries set status = 'retrying', attempt_count = 2 where id = ?").bind(deliveryId).run();

    const { consumed } = await attemptInFlight(url, deliveryId);
    const redelivered = await redeliverHeld(deliveryId);
    expect(redelivered.status).toBe(202);
    expect(await redelivered.json()).toMatchObject({ Status: "pending" });
    await release(url);
    await consumed;

    // The new run is untouched: pending, due, its schedule whole (retry_base moved with the late attempt).
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", generation: 1, attempt_count: 3, retry_base: 3, last_status_code: null });
    const attempts = await attemptsOf(deliveryId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ attempt: 3, status_code: 500, error: "target answered 500" });
    expect(await failureEventsFor(deliveryId)).toBe(0);
    expect(await endedCounts(channel.ID)).toEqual({ succeeded: 0, failed: 0, cancelled: 0 });

    // The redeliver's own message is not dropped: it sends, and its first failure retries.
    await env.DB.prepare("update channels set url = ? where id = ?").bind(target("status/500"), channel.ID).run();
    const next = await consume([deliveryId], SCHEDULE);
    expect(next.retried).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", attempt_count: 4 });
    expect((await attemptsOf(deliveryId)).map((a) => a.attempt)).toEqual([3, 4]);
  });

  it("redeliver during the first attempt: the new run goes out now, not a schedule step later", async () => {
    const url = target("hold/500");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);

    const { consumed } = await attemptInFlight(url, deliveryId);
    const before = Date.now();
    expect((await redeliverHeld(deliveryId)).status).toBe(202);
    await release(url);
    const late = await consumed;

    const row = await delivery(deliveryId);
    expect(row).toMatchObject({ status: "pending", generation: 1, attempt_count: 1, retry_base: 1 });
    expect(row.next_attempt_at).toBeGreaterThanOrEqual(before);
    expect(row.next_attempt_at).toBeLessThanOrEqual(Date.now());
    // The late message is done with: the redeliver's message looks after the delivery.
    expect(late.acked).toEqual(["msg-0"]);
    expect(late.retried).toEqual([]);
  });

  it.each([
    ["deleted", (id: string) => api("DELETE", `/portal-api/webhooks/${id}`), "webhook deleted"],
    ["disabled", (id: string) => api("PATCH", `/portal-api/webhooks/${id}`, { Enabled: false }), "webhook disabled"],
    [
      "unsubscribed",
      (id: string) => api("PATCH", `/portal-api/webhooks/${id}`, { Events: ["UserAccountActivated"] }),
      "webhook unsubscribed from this event type",
    ],
  ])("a channel %s during an attempt: the delivery stays cancelled whatever the target answers", async (_name, change, reason) => {
    for (const answer of ["500", "200"]) {
      const url = target(`hold/${answer}`);
      const channel = await createChannel({ URL: url });
      const { deliveryId } = await makeDelivery(channel.ID);

      const { consumed } = await attemptInFlight(url, deliveryId);
      expect((await change(channel.ID)).status).toBe(200);
      await release(url);
      const result = await consumed;

      expect(result.acked).toEqual(["msg-0"]);
      expect(await delivery(deliveryId)).toMatchObject({ status: "cancelled", last_error: reason, attempt_count: 1, next_attempt_at: null });
      expect(await attemptsOf(deliveryId)).toMatchObject([{ attempt: 1, status_code: Number(answer) }]);
      expect(await endedCounts(channel.ID)).toEqual({ succeeded: 0, failed: 0, cancelled: 1 });
    }
  });

  it("a channel paused during an attempt: a failure retries, and when due the delivery is held, not sent", async () => {
    const url = target("hold/500");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);

    const { consumed } = await attemptInFlight(url, deliveryId);
    expect((await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: true })).status).toBe(200);
    await release(url);
    await consumed;
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", attempt_count: 1 });

    await env.DB.prepare("update deliveries set next_attempt_at = ? where id = ?").bind(Date.now(), deliveryId).run();
    await consume([deliveryId], SCHEDULE);
    expect(await delivery(deliveryId)).toMatchObject({ status: "held", attempt_count: 1 });
    expect(await receivedAt(url)).toHaveLength(1);
  });

  it("holds a delivery only while its channel is still paused: a resume in between leaves it to be sent", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const row = await delivery(deliveryId);
    // The consumer read the channel paused and decided to hold; the channel was resumed before the write.
    const change = {
      channelId: channel.ID,
      id: deliveryId,
      generation: row.generation,
      status: "held" as const,
      nextAttemptAt: null,
      lastStatusCode: null,
      lastError: null,
    };
    await recordBatch(
      env.DB,
      { changes: [change], channelHealth: [], disable: [], raise: [], counts: new CountChanges(), parks: [], laneEnds: [] },
      Date.now(),
    );
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending" });

    await env.DB.prepare("update channels set paused = 1 where id = ?").bind(channel.ID).run();
    await recordBatch(
      env.DB,
      { changes: [change], channelHealth: [], disable: [], raise: [], counts: new CountChanges(), parks: [], laneEnds: [] },
      Date.now(),
    );
    expect(await delivery(deliveryId)).toMatchObject({ status: "held" });
  });

  it("a copy of an older generation's message that arrives late sends nothing and changes nothing", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    await env.DB.prepare("update deliveries set generation = 2 where id = ?").bind(deliveryId).run();
    const result = await consume([deliveryId], SCHEDULE, [1]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0, generation: 2 });
  });
});

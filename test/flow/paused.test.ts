/**
 * Paused: a paused channel holds its deliveries (new ones, queued ones, retries coming
 * due) and drains them on resume, oldest first. (Ordered lanes while paused:
 * test/flow/ordering.test.ts.)
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { api, appWith, consume, count, createChannel, delivery, makeDelivery, makeDue, receivedAt, runSweep, target, uniqueUserRegistered } from "../helpers";

/** The app with a queue that records what it is sent. */
function withQueue() {
  const queue = recordingQueue();
  return { queue, ...appWith({ DELIVERIES: queue }) };
}

describe("Paused", () => {
  it("holds new deliveries: created held, counted in the answer, nothing queued or sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Paused: true });
    expect(channel).toMatchObject({ Paused: true, RateLimit: null });
    const { queue, post } = withQueue();
    const res = await post(uniqueUserRegistered());
    expect(res.status).toBe(202);
    const { ID, Deliveries } = await res.json<any>();
    expect(Deliveries).toBe(await count("deliveries", "event_id = ?", ID));
    expect(queue.ids).not.toContain(
      (await env.DB.prepare("select id from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<{ id: string }>())!.id,
    );
    const row = await env.DB.prepare("select status, attempt_count from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<any>();
    expect(row).toEqual({ status: "held", attempt_count: 0 });
    expect(await receivedAt(url)).toEqual([]);
  });

  it("holds a queued delivery and a retry that comes due while paused, without an attempt", async () => {
    const url = target("flaky/1");
    const channel = await createChannel({ URL: url });
    const pending = await makeDelivery(channel.ID);
    const retrying = await makeDelivery(channel.ID);
    await consume([retrying.deliveryId]);
    expect((await delivery(retrying.deliveryId)).status).toBe("retrying");
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: true });
    await makeDue(retrying.deliveryId);
    const result = await consume([pending.deliveryId, retrying.deliveryId]);
    expect(result.acked).toEqual(["msg-0", "msg-1"]);
    for (const [id, attempts] of [
      [pending.deliveryId, 0],
      [retrying.deliveryId, 1],
    ] as const) {
      expect(await delivery(id)).toMatchObject({ status: "held", attempt_count: attempts, next_attempt_at: null });
    }
    expect(await receivedAt(url)).toHaveLength(1);
    // The sweeper leaves held deliveries alone, however long they wait.
    const swept = await runSweep({ DELIVERIES: recordingQueue() }, Date.now() + 24 * 3600_000);
    expect(swept.reclaimed.map((r) => r.deliveryId)).not.toContain(pending.deliveryId);
    expect((await delivery(pending.deliveryId)).status).toBe("held");
  });

  it("drains on resume: every held delivery queued again, oldest first, then sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Paused: true });
    const { queue, post, call } = withQueue();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { ID } = await (await post(uniqueUserRegistered())).json<any>();
      ids.push((await env.DB.prepare("select id from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<{ id: string }>())!.id);
      await new Promise((r) => setTimeout(r, 2));
    }
    const before = queue.ids.length;
    const resumed = await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: false });
    expect(resumed.status).toBe(200);
    expect(queue.ids.slice(before)).toEqual(ids);
    for (const id of ids) expect((await delivery(id)).status).toBe("pending");
    await consume(ids);
    expect(await receivedAt(url)).toHaveLength(5);
    for (const id of ids) expect(await delivery(id)).toMatchObject({ status: "succeeded", attempt_count: 1 });
  });

  it("cancels held deliveries when the channel is disabled, as it cancels waiting ones", async () => {
    const channel = await createChannel({ URL: target(), Paused: true });
    const { post, call } = withQueue();
    const { ID } = await (await post(uniqueUserRegistered())).json<any>();
    await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Enabled: false });
    const row = await env.DB.prepare("select status, last_error from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<any>();
    expect(row).toEqual({ status: "cancelled", last_error: "webhook disabled" });
  });

  it("counts held deliveries in the stats", async () => {
    const channel = await createChannel({ URL: target(), Paused: true });
    const { post } = withQueue();
    await post(uniqueUserRegistered());
    const stats = await (await api("GET", `/portal-api/stats?webhook_id=${channel.ID}`)).json<any>();
    expect(stats.Counts.held).toBe(1);
  });
});

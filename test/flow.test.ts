/**
 * Flow control: a paused channel holds its deliveries and drains them on resume; a rate
 * limit paces starts at N a second, across consumer invocations, and a start later than
 * the batch can wait for comes back once, without an attempt (ordered lanes and a drained
 * backlog: test/ordering.test.ts). (Timing against a real `wrangler dev`:
 * test/scripts/flow-control.test.ts.)
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweep } from "../src/sweeper/sweep";
import { countingD1, countingSequencer, recordingQueue } from "./doubles";
import { api, appWith, consume, count, createChannel, delivery, makeDelivery, makeDue, receivedAt, target, uniqueUserRegistered } from "./helpers";

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
    const swept = await sweep({ ...env, DELIVERIES: recordingQueue() as never }, Date.now() + 24 * 3600_000);
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

describe("RateLimit", () => {
  it("paces a batch: starts spaced at the limit, waited for in the batch; a later start comes back once, told when", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, RateLimit: 1 });
    const ids = [];
    for (let i = 0; i < 11; i++) ids.push((await makeDelivery(channel.ID)).deliveryId);
    const queue = recordingQueue();
    const { db, counter } = countingD1(env.DB);
    const result = await consume(ids, { DELIVERIES: queue, DB: db });
    // The sequencer is a Durable Object, not D1: still one read and one write.
    expect(counter.roundTrips).toBe(2);
    expect(result.acked).toHaveLength(11);
    // Starts 1,050 ms apart (the limit, 5% wider), in order: ten fit the 10 s a batch waits.
    // About ten fit (a busy machine may start the batch late and fit nine); the rest come back.
    const arrivals = await receivedAt(url);
    expect(arrivals.length).toBeGreaterThanOrEqual(9);
    // Measured where they arrive: a few ms of the loopback's own jitter are allowed for.
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]!.at - arrivals[i - 1]!.at).toBeGreaterThanOrEqual(975);
    for (const id of ids.slice(0, arrivals.length)) expect((await delivery(id)).status).toBe("succeeded");
    // The eleventh comes back as a new message that carries its start, due then in D1 (not lost).
    const resends = queue.sent.flat() as { body: { deliveryId: string; startAt: number }; delaySeconds?: number }[];
    expect(resends).toHaveLength(11 - arrivals.length);
    const resent = resends.at(-1);
    expect(resent!.body.deliveryId).toBe(ids[10]);
    expect(resent!.body.startAt - arrivals.at(-1)!.at).toBeGreaterThanOrEqual(990);
    expect(await delivery(ids[10]!)).toMatchObject({ status: "pending", attempt_count: 0, next_attempt_at: resent!.body.startAt });

    // The queue hands it back within the second before its start (its delay is the whole
    // seconds until then); it starts at its time, without asking again.
    const startAt = resent!.body.startAt;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - 800 - Date.now())));
    await consume([ids[10]!], { DELIVERIES: recordingQueue() }, undefined, [{ startAt }]);
    expect((await delivery(ids[10]!)).status).toBe("succeeded");
    const eleventh = (await receivedAt(url)).at(-1)!;
    expect(eleventh.at).toBeGreaterThanOrEqual(startAt);
    expect(eleventh.at - startAt).toBeLessThan(500);
  });

  it("gives a message that comes back after its start a new one, rather than start it at once", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, RateLimit: 1 });
    const first = await makeDelivery(channel.ID);
    const late = await makeDelivery(channel.ID);
    await consume([first.deliveryId]);
    // Its start passed 5 s ago (a busy queue): starting it now would be the second in this second.
    await consume([late.deliveryId], {}, undefined, [{ startAt: Date.now() - 5000 }]);
    const [a, b] = await receivedAt(url);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(1000);
  });

  it("asks no sequencer for a channel without a limit", async () => {
    const channel = await createChannel({ URL: target() });
    const { deliveryId } = await makeDelivery(channel.ID);
    const sequencer = countingSequencer();
    await consume([deliveryId], { SEQUENCER: sequencer.binding });
    expect(sequencer.counter.asked).toBe(0);
    expect((await delivery(deliveryId)).status).toBe("succeeded");
  });

  it.each([
    [0, "RateLimit: must be at least 1"],
    [1001, "RateLimit: must be at most 1000"],
    [1.5, "RateLimit: must be a whole number of requests per second"],
    ["10", "RateLimit: must be a whole number of requests per second"],
  ])("refuses RateLimit %j", async (value, error) => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], RateLimit: value });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual([error]);
  });

  it("is set and cleared with PATCH, and Paused must be a boolean", async () => {
    const channel = await createChannel();
    expect((await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { RateLimit: 50 })).json<any>()).RateLimit).toBe(50);
    expect((await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Name: "CRM 2" })).json<any>()).RateLimit).toBe(50);
    expect((await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { RateLimit: null })).json<any>()).RateLimit).toBeNull();
    const res = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: "yes" });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^Paused: /);
    expect(await count("channels", "id = ? and paused = 0", channel.ID)).toBe(1);
  });
});

/**
 * RateLimit: starts paced at N a second, across consumer invocations; a start later than
 * the batch can wait for comes back once, without an attempt; a held backlog drained at
 * the limit, end to end; no sequencer asked for a channel that needs none. (Timing
 * against a real `wrangler dev`: test/scripts/flow-control.test.ts.)
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { startWithinLimit } from "../../src/flow/steps";
import { countingD1, countingSequencer, recordingQueue } from "../doubles";
import { api, appWith, consume, count, createChannel, delivery, makeDelivery, receivedAt, target } from "../helpers";
import { testQueue } from "../queue-driver";
import { event, post, putEarlierTestsAside, seqOf } from "./lanes";

describe("RateLimit", () => {
  it("paces a batch: starts spaced at the limit, waited for in the batch; a later start comes back once, told when", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, RateLimit: 1 });
    const ids = [];
    for (let i = 0; i < 11; i++) ids.push((await makeDelivery(channel.ID)).deliveryId);
    const queue = recordingQueue();
    const { db, counter } = countingD1(env.DB);
    const result = await consume(ids, { DELIVERIES: queue, DB: db });
    // The sequencer is a Durable Object, not D1: one read and one write, and while the
    // batch waits its 10 s for the starts, one read of the channel's state a second at most
    // (src/flow/recheck.ts), so a pause or a disable meanwhile stops what waits.
    expect(counter.roundTrips).toBeGreaterThan(2);
    expect(counter.roundTrips).toBeLessThanOrEqual(2 + 11);
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

  it("never starts more than the limit in a second in one isolate, even from grants that came due together (a late timer, two batches)", async () => {
    const channelId = crypto.randomUUID();
    // Five grants all due now, as two batches would hold them after their isolate ran late.
    const now = Date.now();
    const started = (await Promise.all([now, now + 10, now, now + 20, now].map((at) => startWithinLimit(channelId, 2, at)))).sort((a, b) => a - b);
    expect(started[0]).toBeGreaterThanOrEqual(now);
    for (let i = 2; i < started.length; i++) expect(started[i]! - started[i - 2]!).toBeGreaterThanOrEqual(1000);
  });

  for (const [action, change, left] of [
    ["paused", { Paused: true }, "held"],
    ["disabled", { Enabled: false }, "cancelled"],
    ["deleted", null, "cancelled"],
  ] as const) {
    it(`starts nothing more of a batch waiting for its starts once its channel is ${action}: what waits is ${left}, unsent`, async () => {
      const url = target();
      const channel = await createChannel({ URL: url, RateLimit: 1 });
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await makeDelivery(channel.ID)).deliveryId);
      // The batch starts one a second; the admin acts once the first has arrived.
      const consuming = consume(ids);
      await expect.poll(async () => (await receivedAt(url)).length, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(1);
      const res = change ? await api("PATCH", `/portal-api/webhooks/${channel.ID}`, change) : await api("DELETE", `/portal-api/webhooks/${channel.ID}`);
      expect(res.status).toBe(200);
      const actedAt = Date.now();
      await consuming;
      const arrivals = await receivedAt(url);
      // Nothing started after the action (the last start was due 3.15 s in: at least that one waited).
      expect(arrivals.every((a) => a.at <= actedAt)).toBe(true);
      expect(arrivals.length).toBeLessThan(4);
      const rows = await Promise.all(ids.map(delivery));
      for (const row of rows.slice(arrivals.length)) expect(row).toMatchObject({ status: left, attempt_count: 0 });
    });
  }

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

describe("RateLimit paces", () => {
  // As in every end-to-end test of the lanes: only this test's channel receives its events.
  beforeEach(putEarlierTestsAside);

  it("drains 40 held deliveries at 5 a second in order: at most 5 start in any second, at most 2 messages each", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Events: ["OrganisationRegistered"], RateLimit: 5, Paused: true });
    const queue = testQueue({}, 4);
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 40; seq++) await post(app, event(seq, seq));
    const resumedAt = Date.now();
    expect((await app.call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: false })).status).toBe(200);
    await queue.run({ timeoutMs: 30_000 });

    const arrivals = await receivedAt(url);
    const timeline = arrivals.map((a) => `${seqOf(a)}@${a.at - resumedAt}`).join(" ");
    expect(arrivals.map(seqOf), timeline).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const times = arrivals.map((a) => a.at);
    expect(times.at(-1)! - resumedAt, timeline).toBeLessThanOrEqual(9000);
    // Measured where they arrive: a few ms of the loopback's own jitter are allowed for.
    for (let i = 5; i < times.length; i++) expect(times[i]! - times[i - 5]!, `starts ${i - 5}..${i}: ${timeline}`).toBeGreaterThanOrEqual(975);
    expect(Math.max(...queue.perDelivery.values())).toBeLessThanOrEqual(2);
    expect(await count("deliveries", "channel_id = ? and status = 'succeeded' and attempt_count = 1", channel.ID)).toBe(40);
  });
});

describe("channels with neither setting", () => {
  // As in every end-to-end test of the lanes: only this test's channel receives its events.
  beforeEach(putEarlierTestsAside);

  it("never ask a sequencer", async () => {
    const url = target("ok");
    await createChannel({ URL: url, Events: ["OrganisationRegistered"] });
    const sequencer = countingSequencer();
    const queue = testQueue({ SEQUENCER: sequencer.binding });
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    await queue.run();
    expect(sequencer.counter.asked).toBe(0);
    expect(await receivedAt(url)).toHaveLength(3);
    const id = (await env.DB.prepare("select id from deliveries order by id desc limit 1").first<{ id: string }>())!.id;
    expect(await delivery(id)).toMatchObject({ lane: null });
  });
});

/**
 * Ordered delivery (`Ordering`) and a rate limit that paces (`RateLimit`), end to end:
 * events posted to intake, the real consumer and sequencer, a queue run in the test
 * (test/queue-driver.ts) and a real local target (test/receiver.ts).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sweep } from "../src/sweeper/sweep";
import { countingSequencer } from "./doubles";
import { api, appWith, count, createChannel, delivery, receivedAt, target, uniqueUserRegistered } from "./helpers";
import { testQueue } from "./queue-driver";
import type { Received } from "./receiver";

/** Retries at once, eight times: a failing target's lane moves at the speed of the test. */
const QUICK_RETRIES = { RETRY_SCHEDULE: "0,0,0,0,0,0,0,0" };

let posted = 0;
/** A portal event whose `Message.ID` is `key` (its lane) and whose `Message.Seq` numbers it. */
function event(key: number, seq: number, extra: Record<string, unknown> = {}) {
  posted++;
  return JSON.stringify({
    Event: "OrganisationRegistered",
    Message: { ID: key, Seq: seq, Name: `Org ${posted}-${crypto.randomUUID()}`, CreatedAt: "2024-04-18T16:12:09.8437+02:00", ...extra },
    Timestamp: new Date().toISOString(),
  });
}

// Each test's channel alone receives its events: the channels and deliveries of the tests
// before it (this file shares one database) are put out of the way.
beforeEach(async () => {
  await env.DB.batch([
    env.DB.prepare("update channels set enabled = 0"),
    env.DB.prepare("update deliveries set status = 'cancelled', next_attempt_at = null where status in ('pending', 'retrying', 'held')"),
  ]);
});

const seqOf = (r: Received) => JSON.parse(r.body).Message.Seq as number;

/**
 * Checks one lane's arrivals: events first arrive in the order posted, and none arrives
 * before the answer to the last attempt of the event before it was sent (it had ended).
 */
function expectInOrder(arrivals: Received[], seqs: number[]) {
  const firsts = seqs.map((s) => arrivals.find((a) => seqOf(a) === s)!);
  expect(firsts.every(Boolean), "every event arrived").toBe(true);
  expect([...firsts].sort((a, b) => a.at - b.at).map(seqOf)).toEqual(seqs);
  for (let i = 1; i < seqs.length; i++) {
    const before = arrivals.filter((a) => seqOf(a) === seqs[i - 1]);
    const lastBefore = Math.max(...before.map((a) => a.done ?? Number.POSITIVE_INFINITY));
    expect(firsts[i]!.at, `event ${seqs[i]} started before event ${seqs[i - 1]} ended`).toBeGreaterThanOrEqual(lastBefore);
  }
}

/** Time passes for the channel's deliveries: every due time moves `ms` into the past. */
async function passes(ms: number, channelId: string) {
  await env.DB.prepare(
    "update deliveries set next_attempt_at = next_attempt_at - ?1, updated_at = updated_at - ?1 where channel_id = ?2 and next_attempt_at is not null",
  )
    .bind(ms, channelId)
    .run();
}

async function orderedChannel(url: string, fields: Record<string, unknown> = {}) {
  return createChannel({ URL: url, Events: ["OrganisationRegistered"], Ordering: { Key: null }, ...fields });
}

async function post(app: ReturnType<typeof appWith>, body: string) {
  const res = await app.post(body);
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json<{ ID: string }>()).ID;
}

describe("Ordering", () => {
  it("sends a lane in order through a target that fails 40% of the time, one at a time", async () => {
    const url = target("lottery/40");
    const channel = await orderedChannel(url);
    const queue = testQueue(QUICK_RETRIES, 3);
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 20; seq++) await post(app, event(1, seq));
    await queue.run({ timeoutMs: 120_000 });

    const arrivals = await receivedAt(url);
    expectInOrder(
      arrivals,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)).toBe(20);
  });

  it("keeps a lane per key: a held-up key never holds up another", async () => {
    const base = target("ok");
    const key = base.split("/").at(-1)!;
    const port = new URL(base).port;
    // The event's Mode picks the receiver's behaviour: "hold" answers only when released.
    const url = `http://127.0.0.1:${port}/{Message.Mode}/200/${key}/{Message.ID}`;
    await createChannel({ URL: url, Events: ["OrganisationRegistered"], Ordering: { Key: "Message.ID" }, Timeout: 60 });
    const queue = testQueue({}, 3);
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 8; seq++) {
      const slow = seq % 3 === 1;
      await post(app, event(slow ? 100 : 200, seq, { Mode: slow ? "hold" : "ok" }));
    }
    const at = (kind: string) => receivedAt(`http://127.0.0.1:${port}/${kind}/200/${key}/`);
    const running = queue.run({ timeoutMs: 60_000, until: async () => (await at("hold")).length === 3 && (await at("ok")).length === 5 });

    // The slow key's first event is held at the target; the fast key's five all arrive meanwhile.
    await expect.poll(async () => (await at("ok")).length, { timeout: 20_000 }).toBe(5);
    expect((await at("hold")).map(seqOf)).toEqual([1]);
    expectInOrder(await at("ok"), [2, 3, 5, 6, 8]);

    // Released one by one, the slow key goes on in its order.
    const heldPath = `/hold/200/${key}/100`;
    for (let n = 1; n <= 3; n++) {
      await expect.poll(async () => (await at("hold")).length, { timeout: 20_000 }).toBe(n);
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${port}/__release?path=${encodeURIComponent(heldPath)}`)).status, { timeout: 20_000 })
        .toBe(200);
    }
    await running;
    expectInOrder(await at("hold"), [1, 4, 7]);
  });

  it("goes on in order after a restart that loses every queued message", async () => {
    const url = target("ok");
    const channel = await orderedChannel(url);
    // The sweeper takes a delivery for lost a second after it was due.
    const queue = testQueue({ LOST_AFTER_SECONDS: "1,1" });
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 10; seq++) await post(app, event(1, seq));
    await queue.run({ until: async () => (await receivedAt(url)).length >= 4 });
    await queue.idle();
    queue.drop();

    // Waiting deliveries are not lost ones: the sweeper sends the lane's head again, only.
    await passes(5000, channel.ID);
    const { reclaimed } = await sweep(queue.env);
    expect(reclaimed.length).toBe(1);
    await queue.run();

    expectInOrder(
      await receivedAt(url),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expectInOrder(
      await receivedAt(url),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expect(await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)).toBe(10);
  });

  it("holds ordered deliveries while paused and drains them in order on resume", async () => {
    const url = target("lottery/30");
    const channel = await orderedChannel(url, { Paused: true });
    const queue = testQueue(QUICK_RETRIES);
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 6; seq++) await post(app, event(1, seq));
    expect(await count("deliveries", "channel_id = ? and status = 'held'", channel.ID)).toBe(6);
    expect(queue.sent).toBe(0);

    expect((await app.call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: false })).status).toBe(200);
    await queue.run();
    expectInOrder(await receivedAt(url), [1, 2, 3, 4, 5, 6]);
  });

  it("shows which delivery heads each waiting lane, and a lane whose head fails for good goes on", async () => {
    const base = target("ok");
    const port = new URL(base).port;
    const key = base.split("/").at(-1)!;
    // Lane "a" fails (500) for good; lane "b" succeeds.
    const url = `http://127.0.0.1:${port}/status/{Message.Code}/${key}/{Message.ID}`;
    const channel = await createChannel({ URL: url, Events: ["OrganisationRegistered", "Dispatcher.DeliveryFailed"], Ordering: { Key: "Message.ID" } });
    const failedUrl = target("ok");
    await createChannel({ URL: failedUrl, Events: ["Dispatcher.DeliveryFailed"] });
    const queue = testQueue({ RETRY_SCHEDULE: "0" });
    const app = appWith({ DELIVERIES: queue.binding });
    const first = await post(app, event(1, 1, { Code: 500 }));
    await post(app, event(1, 2, { Code: 200 }));
    await post(app, event(1, 3, { Code: 200 }));
    await post(app, event(2, 4, { Code: 200 }));

    const lanes = await (await api("GET", `/portal-api/webhooks/${channel.ID}/lanes`)).json<any[]>();
    expect(lanes).toEqual([
      {
        Key: "1",
        Head: expect.objectContaining({ EventID: first, EventType: "OrganisationRegistered", Status: "pending", AttemptCount: 0 }),
        Waiting: 2,
        Since: expect.any(String),
      },
    ]);

    await queue.run();
    const statuses = await env.DB.prepare("select lane, status from deliveries where channel_id = ? and event_type = 'OrganisationRegistered' order by id")
      .bind(channel.ID)
      .all<{ lane: string; status: string }>();
    expect(statuses.results).toEqual([
      { lane: "1", status: "failed" },
      { lane: "1", status: "succeeded" },
      { lane: "1", status: "succeeded" },
      { lane: "2", status: "succeeded" },
    ]);
    // Two attempts of the failing head, then its lane's next two, in order.
    const laneA = await receivedAt(`http://127.0.0.1:${port}/status/`).then((all) => all.filter((r) => r.path.endsWith(`${key}/1`)));
    expect(laneA.map(seqOf)).toEqual([1, 1, 2, 3]);
    // The failure event names the lane.
    const [failed] = await receivedAt(failedUrl);
    expect(JSON.parse(failed!.body).Message).toMatchObject({ EventID: first, Lane: "1" });
    expect(await (await api("GET", `/portal-api/webhooks/${channel.ID}/lanes`)).json()).toEqual([]);
  });

  it("moves a lane on past a delivery its Transform sends nothing for, and past an unsubscribed type", async () => {
    const url = target("ok");
    const channel = await createChannel({
      URL: url,
      Events: ["OrganisationRegistered", "UserRegistered"],
      Ordering: { Key: null },
      // Events marked Skip send nothing: they end cancelled.
      Transform: { Body: "Message.Skip ? undefined : $" },
    });
    const queue = testQueue();
    const app = appWith({ DELIVERIES: queue.binding });
    await post(app, event(1, 1));
    await post(app, event(1, 2, { Skip: true }));
    await post(app, uniqueUserRegistered({ Seq: 3 }));
    await post(app, event(1, 4));
    // The UserRegistered delivery is cancelled when the channel stops wanting the type.
    expect((await app.call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["OrganisationRegistered"] })).status).toBe(200);
    await queue.run();
    expect((await receivedAt(url)).map(seqOf)).toEqual([1, 4]);
    const statuses = await env.DB.prepare("select status from deliveries where channel_id = ? order by id").bind(channel.ID).all<{ status: string }>();
    expect(statuses.results.map((r) => r.status)).toEqual(["succeeded", "cancelled", "cancelled", "succeeded"]);
  });

  it("goes on when the type of a retrying head is unsubscribed: the deliveries behind it are sent again", async () => {
    const base = target("ok");
    const port = new URL(base).port;
    const key = base.split("/").at(-1)!;
    // The UserRegistered head keeps failing (500); the events behind it succeed.
    const url = `http://127.0.0.1:${port}/status/{Message.Code}/${key}`;
    const channel = await createChannel({ URL: url, Events: ["OrganisationRegistered", "UserRegistered"], Ordering: { Key: null } });
    const queue = testQueue({ RETRY_SCHEDULE: "30" });
    const app = appWith({ DELIVERIES: queue.binding });
    await post(app, uniqueUserRegistered({ Seq: 1, Code: 500 }));
    for (let seq = 2; seq <= 4; seq++) await post(app, event(1, seq, { Code: 200 }));
    await queue.run({ until: async () => (await count("deliveries", "channel_id = ? and next_attempt_at is null", channel.ID)) === 3 });
    expect(await count("deliveries", "channel_id = ? and status = 'retrying'", channel.ID)).toBe(1);

    expect((await app.call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["OrganisationRegistered"] })).status).toBe(200);
    await queue.run({ timeoutMs: 15_000, until: async () => (await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)) === 3 });
    expect((await receivedAt(`http://127.0.0.1:${port}/status/200/${key}`)).map(seqOf)).toEqual([2, 3, 4]);
  });

  it("lets the sweeper give a lane whose head has no due time one (a wake-up and its due time both lost)", async () => {
    const url = target("ok");
    const channel = await orderedChannel(url);
    const queue = testQueue({ LOST_AFTER_SECONDS: "1,1" });
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    // As if all three had parked and nothing would wake them.
    await env.DB.prepare("update deliveries set next_attempt_at = null where channel_id = ?").bind(channel.ID).run();
    queue.drop();
    // Each run gives the lane's head a due time, and sends it once that is past its grace.
    for (let run = 0; run < 6 && (await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)) < 3; run++) {
      await sweep(queue.env);
      await passes(5000, channel.ID);
      await sweep(queue.env);
      await queue.run();
    }
    expectInOrder(await receivedAt(url), [1, 2, 3]);
  });

  it("ends every waiting delivery of the lane when a 410 disables the channel", async () => {
    const url = target("status/410");
    const channel = await orderedChannel(url);
    const queue = testQueue();
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 4; seq++) await post(app, event(1, seq));
    await queue.run();
    expect((await receivedAt(url)).map(seqOf)).toEqual([1]);
    const rows = await env.DB.prepare("select status, last_error from deliveries where channel_id = ? order by id").bind(channel.ID).all<any>();
    expect(rows.results.map((r) => r.status)).toEqual(["failed", "cancelled", "cancelled", "cancelled"]);
    expect(rows.results[1].last_error).toBe("webhook disabled: the target answered 410 Gone");
    // Counted as ended in the stats, as any cancellation.
    const stats = await (await api("GET", `/portal-api/stats?webhook_id=${channel.ID}`)).json<any>();
    expect(stats.Counts).toMatchObject({ failed: 1, cancelled: 3, pending: 0 });
  });

  it("lets the sweeper send only a lane's head: the deliveries behind it wait, not lost", async () => {
    const url = target("hold/200");
    const channel = await orderedChannel(url);
    const queue = testQueue();
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    // The head is held at the target; the two behind it park.
    const running = queue.run({ until: async () => (await count("deliveries", "channel_id = ? and next_attempt_at is null", channel.ID)) === 2 });
    await running;
    await passes(5000, channel.ID);
    const { reclaimed } = await sweep(testQueue({ LOST_AFTER_SECONDS: "1,1" }).env);
    const [head] = (await env.DB.prepare("select id from deliveries where channel_id = ? order by id").bind(channel.ID).all<{ id: string }>()).results;
    expect(reclaimed.map((r) => r.deliveryId)).toEqual([head!.id]);
    await fetch(`${new URL(url).origin}/__release?path=${encodeURIComponent(new URL(url).pathname)}`);
  });

  it("validates Ordering, and sets and clears it with PATCH", async () => {
    for (const [value, error] of [
      [{ Key: "Message.Tags.0" }, "Ordering.Key: must be a dotted path of names (a letter or _, then letters, digits, _), e.g. Message.ID"],
      [{ Key: "Message..ID" }, "Ordering.Key: must be a dotted path of names (a letter or _, then letters, digits, _), e.g. Message.ID"],
      [{ Key: 5 }, "Ordering.Key: must be a dotted path of names, or null for the whole channel"],
      [{}, "Ordering.Key: must be a dotted path of names, or null for the whole channel"],
      [{ Key: null, By: "x" }, "Ordering.By: unknown field"],
      ["Message.ID", 'Ordering: must be null, {"Key": null} or {"Key": "<dotted path>"}'],
    ] as const) {
      const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Ordering: value });
      expect(res.status, JSON.stringify(value)).toBe(422);
      expect((await res.json<any>()).errors, JSON.stringify(value)).toEqual([error]);
    }
    const channel = await createChannel();
    expect(channel).toMatchObject({ Ordering: null });
    const set = await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Ordering: { Key: "Message.OrgID" } })).json<any>();
    expect(set.Ordering).toEqual({ Key: "Message.OrgID" });
    expect((await (await api("GET", `/portal-api/webhooks/${channel.ID}`)).json<any>()).Ordering).toEqual({ Key: "Message.OrgID" });
    expect((await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Ordering: null })).json<any>()).Ordering).toBeNull();
  });

  it("sends the deliveries that waited behind a head again when the Ordering is removed", async () => {
    const base = target("hold/200");
    // Each event held at a path of its own, released by the test.
    const url = `${base}/{Message.Seq}`;
    const channel = await orderedChannel(url);
    const queue = testQueue();
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    await queue.run({ until: async () => (await count("deliveries", "channel_id = ? and next_attempt_at is null", channel.ID)) === 2 });
    expect((await app.call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Ordering: null })).status).toBe(200);
    expect(await count("deliveries", "channel_id = ? and lane is not null", channel.ID)).toBe(0);
    expect(await count("deliveries", "channel_id = ? and next_attempt_at is null", channel.ID)).toBe(0);
    // Unordered now, the two that waited go while the first is still held.
    const draining = queue.run({ timeoutMs: 30_000 });
    await expect.poll(async () => (await receivedAt(base)).length, { timeout: 20_000 }).toBe(3);
    for (let seq = 1; seq <= 3; seq++) {
      const path = `${new URL(base).pathname}/${seq}`;
      await expect.poll(async () => (await fetch(`${new URL(base).origin}/__release?path=${encodeURIComponent(path)}`)).status, { timeout: 20_000 }).toBe(200);
    }
    await draining;
    expect(await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)).toBe(3);
  });
});

describe("RateLimit paces", () => {
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

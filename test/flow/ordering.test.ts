/**
 * Ordered delivery (`Ordering`): a lane sent in order through failures, a lane per key,
 * held while paused, set, validated and removed. (A lane's head that ends other than by
 * success: lane-heads.test.ts; the sweeper and lanes: ordering-sweeper.test.ts.)
 */
import { beforeEach, describe, expect, it } from "vitest";
import { api, appWith, count, createChannel, receivedAt, target } from "../helpers";
import { testQueue } from "../queue-driver";
import { event, expectInOrder, orderedChannel, post, putEarlierTestsAside, QUICK_RETRIES, seqOf } from "./lanes";

beforeEach(putEarlierTestsAside);

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

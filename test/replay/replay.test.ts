/** Replay (POST /portal-api/webhooks/{id}/replay): what a channel missed, delivered once, in the order the events came. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { type ReplayChannel, replay } from "../../src/replay/replay";
import { countingD1, recordingQueue } from "../doubles";
import { consume, createChannel, receivedAt, target, uniqueUserRegistered } from "../helpers";
import { fullScans } from "../storage/query-plans";
import { freshSince, postAll, withQueue } from "./windowed-events";

/** The channel's deliveries as stored: event ids and statuses, oldest first. */
async function deliveriesOf(channelId: string) {
  const { results } = await env.DB.prepare("select id, event_id, status from deliveries where channel_id = ? order by id").bind(channelId).all<{
    id: string;
    event_id: string;
    status: string;
  }>();
  return results;
}

describe("POST /portal-api/webhooks/{id}/replay", () => {
  it("sends what came while the channel was disabled, once it is enabled again (a real target, end to end)", async () => {
    const { queue, call, post } = withQueue();
    const since = await freshSince();
    const gone = target("status/410");
    const channel = await createChannel({ URL: gone });
    // The target answers 410: the channel is disabled.
    const [first] = await postAll(post, [uniqueUserRegistered()]);
    await consume(queue.ids);
    expect((await (await call("GET", `/portal-api/webhooks/${channel.ID}`)).json<any>()).Enabled).toBe(false);
    // Two more events come in while it is disabled: accepted, no delivery to it.
    const missed = await postAll(post, [uniqueUserRegistered({ First: "Grace" }), uniqueUserRegistered({ First: "Edsger" })]);
    expect((await deliveriesOf(channel.ID)).map((d) => d.event_id)).toEqual([first]);
    // The admin fixes the target and enables the channel; recover finds the failed one only.
    const fixed = target("ok");
    expect((await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: fixed, Enabled: true })).status).toBe(200);
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: since, DryRun: true })).json()).toEqual({ WouldRequeue: 1 });

    // Replay counts first, then creates the two missed ones, and only those.
    const dry = await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, DryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ WouldCreate: 2 });
    const sentBefore = queue.ids.length;
    const res = await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ Created: 2 });
    const replayed = queue.ids.slice(sentBefore);
    expect(replayed).toHaveLength(2);
    await consume(replayed);

    const arrived = await receivedAt(fixed);
    expect(arrived.map((r) => r.headers["webhook-id"])).toEqual(missed);
    expect(arrived.map((r) => JSON.parse(r.body).Message.First)).toEqual(["Grace", "Edsger"]);
    expect((await deliveriesOf(channel.ID)).map((d) => [d.event_id, d.status])).toEqual([
      [first, "failed"],
      [missed[0], "succeeded"],
      [missed[1], "succeeded"],
    ]);
  });

  it("replays to a new channel the events from before it existed, in the order they were received; twice creates nothing", async () => {
    const { queue, call, post } = withQueue();
    const since = await freshSince();
    const posted = await postAll(post, [uniqueUserRegistered(), uniqueUserRegistered(), uniqueUserRegistered()]);
    const channel = await createChannel({ URL: target("ok") });
    const sentBefore = queue.ids.length;
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since })).json()).toEqual({ Created: 3 });
    const stored = await deliveriesOf(channel.ID);
    expect(stored.map((d) => d.event_id)).toEqual(posted);
    // Each delivery sorts with its event: the event's time and counter lead its id.
    for (const d of stored) expect(d.id.slice(0, 23)).toBe(d.event_id.slice(0, 23));
    // Queued in the order the events were received.
    expect(queue.ids.slice(sentBefore)).toEqual(stored.map((d) => d.id));

    const again = await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since });
    expect(await again.json()).toEqual({ Created: 0 });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, DryRun: true })).json()).toEqual({ WouldCreate: 0 });
    expect(await deliveriesOf(channel.ID)).toHaveLength(3);
  });

  it("sends only what the channel's filter passes now, and only types it subscribes to", async () => {
    const { call, post } = withQueue();
    const since = await freshSince();
    const [, seven, , alsoSeven] = await postAll(post, [
      uniqueUserRegistered({ OrgID: 8 }),
      uniqueUserRegistered({ OrgID: 7 }),
      uniqueUserRegistered({ OrgID: 9 }),
      uniqueUserRegistered({ OrgID: 7 }),
    ]);
    const channel = await createChannel({ URL: target("ok"), Events: ["UserRegistered", "AccessRequestCreated"], Filter: { "Message.OrgID": 7 } });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, DryRun: true })).json()).toEqual({ WouldCreate: 2 });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, EventType: "AccessRequestCreated" })).json()).toEqual({
      Created: 0,
    });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since })).json()).toEqual({ Created: 2 });
    expect((await deliveriesOf(channel.ID)).map((d) => d.event_id)).toEqual([seven, alsoSeven]);

    // A wider filter later: the events it now passes, and only those, follow.
    await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Filter: { "Message.OrgID": { $in: [7, 9] } } });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since })).json()).toEqual({ Created: 1 });
  });

  it("creates held deliveries for a paused channel, queues nothing, and sends them on resume", async () => {
    const { queue, call, post } = withQueue();
    const since = await freshSince();
    await postAll(post, [uniqueUserRegistered(), uniqueUserRegistered()]);
    const channel = await createChannel({ URL: target("ok"), Paused: true });
    const sentBefore = queue.ids.length;
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since })).json()).toEqual({ Created: 2 });
    expect((await deliveriesOf(channel.ID)).map((d) => d.status)).toEqual(["held", "held"]);
    expect(queue.ids.slice(sentBefore)).toEqual([]);
    await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Paused: false });
    expect(queue.ids.slice(sentBefore)).toEqual((await deliveriesOf(channel.ID)).map((d) => d.id));
  });

  it("keeps one delivery per channel and event while events arrive and other replays run", async () => {
    const { call, post } = withQueue();
    const since = await freshSince();
    const channel = await createChannel({ URL: target("ok"), Enabled: true });
    await postAll(post, [uniqueUserRegistered(), uniqueUserRegistered()]);
    // Events posted while three replays of the same window run.
    const racing = await Promise.all([
      ...Array.from({ length: 6 }, () => post(uniqueUserRegistered())),
      call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since }),
      call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since }),
      call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since }),
    ]);
    expect(racing.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202, 202, 202, 202]);
    const created = await Promise.all(racing.slice(6).map((r) => r.json<{ Created: number }>()));
    // The channel existed before every event: intake made every delivery, a replay none.
    expect(created.map((c) => c.Created)).toEqual([0, 0, 0]);
    const stored = await deliveriesOf(channel.ID);
    expect(stored).toHaveLength(8);
    expect(new Set(stored.map((d) => d.event_id)).size).toBe(8);

    // A new channel: replays race intake and each other; every event still gets one delivery.
    const late = await createChannel({ URL: target("ok") });
    const second = await Promise.all([
      ...Array.from({ length: 4 }, () => post(uniqueUserRegistered())),
      call("POST", `/portal-api/webhooks/${late.ID}/replay`, { Since: since }),
      call("POST", `/portal-api/webhooks/${late.ID}/replay`, { Since: since }),
    ]);
    const made = await Promise.all(second.slice(4).map((r) => r.json<{ Created: number }>()));
    const ofLate = await deliveriesOf(late.ID);
    expect(ofLate).toHaveLength(12);
    expect(new Set(ofLate.map((d) => d.event_id)).size).toBe(12);
    // The 8 older events came by replay, once between the two; the 4 new ones by intake or replay.
    expect(made[0]!.Created + made[1]!.Created).toBeGreaterThanOrEqual(8);
    expect(made[0]!.Created + made[1]!.Created).toBeLessThanOrEqual(12);
  });

  it("replays one event to a channel that has no delivery for it (the event page's Send to…)", async () => {
    const { call, post } = withQueue();
    const since = await freshSince();
    const [one, two] = await postAll(post, [uniqueUserRegistered(), uniqueUserRegistered()]);
    const channel = await createChannel({ URL: target("ok") });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, EventID: two, DryRun: true })).json()).toEqual({
      WouldCreate: 1,
    });
    expect(await (await call("POST", `/portal-api/webhooks/${channel.ID}/replay`, { Since: since, EventID: two })).json()).toEqual({ Created: 1 });
    expect((await deliveriesOf(channel.ID)).map((d) => d.event_id)).toEqual([two]);
    expect(one).not.toBe(two);
  });

  it("goes on from a cursor when a window is longer than one request does, and ends where it should", async () => {
    const { post } = withQueue();
    const since = await freshSince();
    const posted = await postAll(
      post,
      Array.from({ length: 7 }, () => uniqueUserRegistered()),
    );
    const channel = await createChannel({ URL: target("ok"), Filter: { "Message.Status": "active" } });
    const row = await env.DB.prepare("select filter, filter_version as version from channels where id = ?").bind(channel.ID).first<any>();
    const subject: ReplayChannel = { id: channel.ID, types: ["UserRegistered"], filter: row.filter, filterVersion: row.version };
    const queue = recordingQueue();
    const window = { since: Date.parse(since), until: Date.now() + 1 };
    const options = { sliceEvents: 2, requestEvents: 3 };
    const { db, counter } = countingD1(env.DB);
    const counts: number[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const result = await replay(database(db), queue as never, subject, { ...window, after }, false, options);
      counts.push(result.count);
      after = result.next;
      if (!after) break;
    }
    // 4 events a request (two slices of 2, the budget of 3 reached), then the remaining 3.
    expect(counts).toEqual([4, 3]);
    expect((await deliveriesOf(channel.ID)).map((d) => d.event_id)).toEqual(posted);
    expect(queue.ids).toEqual((await deliveriesOf(channel.ID)).map((d) => d.id));
    // Every statement reads a range of a key, never a table.
    expect(await fullScans(counter.statements)).toEqual([]);
  });

  it("refuses bad input with 422, a disabled channel with 409, an unknown one with 404", async () => {
    const { call } = withQueue();
    const channel = await createChannel();
    const replayOf = (body: unknown, id = channel.ID) => call("POST", `/portal-api/webhooks/${id}/replay`, body);
    const errors = async (res: Response) => [res.status, (await res.json<{ errors: string[] }>()).errors];
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z", Untill: "2026-01-02T00:00:00Z" }))).toEqual([422, ["Untill: unknown field"]]);
    expect(await errors(await replayOf({}))).toEqual([422, [expect.stringMatching(/^Since: /)]]);
    expect(await errors(await replayOf({ Since: "2026-02-31T00:00:00Z" }))).toEqual([422, [expect.stringMatching(/^Since: must be a date that exists/)]]);
    expect(await errors(await replayOf({ Since: "2026-01-01T23:59:60Z" }))).toEqual([422, [expect.stringMatching(/^Since: must be a time that exists/)]]);
    expect(await errors(await replayOf({ Since: "2026-01-02T00:00:00Z", Until: "2026-01-01T00:00:00Z" }))).toEqual([422, ["Since: must be before Until"]]);
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z", EventType: "UserRegisterd" }))).toEqual([422, [expect.stringMatching(/^EventType: /)]]);
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z", Cursor: "bm9wZQ" }))).toEqual([
      422,
      [expect.stringMatching(/^Cursor: is not a cursor/)],
    ]);
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z", DryRun: "yes" }))).toEqual([422, [expect.stringMatching(/^DryRun: /)]]);
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z", EventType: "AccessRequestCreated" }))).toEqual([
      409,
      ["EventType: the webhook does not subscribe to AccessRequestCreated"],
    ]);
    expect((await replayOf({ Since: "2026-01-01T00:00:00Z" }, "no-such-channel")).status).toBe(404);
    await call("PATCH", `/portal-api/webhooks/${channel.ID}`, { Enabled: false });
    expect(await errors(await replayOf({ Since: "2026-01-01T00:00:00Z" }))).toEqual([409, ["Enabled: the webhook is disabled; enable it first"]]);
  });
});

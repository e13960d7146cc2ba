/**
 * An ordered lane goes on when its head ends other than by success: it fails for good, its
 * Transform sends nothing, its type is unsubscribed, or a 410 disables the channel; and
 * GET /portal-api/webhooks/{id}/lanes shows which delivery heads each waiting lane.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { api, appWith, count, createChannel, receivedAt, target, uniqueUserRegistered } from "../helpers";
import { testQueue } from "../queue-driver";
import { event, orderedChannel, post, putEarlierTestsAside, seqOf } from "./lanes";

beforeEach(putEarlierTestsAside);

describe("Ordering: a lane whose head ends", () => {
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
});

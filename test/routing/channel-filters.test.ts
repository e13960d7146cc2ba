/**
 * A channel's Filter: refused at save when malformed, applied at intake in one round trip
 * and never from a stale cache, applied to operational events, and previewed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingD1, recordingQueue } from "../doubles";
import { api, consume, createChannel, makeDelivery, postEvent, target, uniqueUserRegistered } from "../helpers";

describe("Filter on a channel", () => {
  it("is refused at save with a 422 naming the path", async () => {
    const res = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: "https://crm.example.com/",
      Events: ["UserRegistered"],
      Filter: { Message: { OrgID: { $gt: "seven" } } },
    });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["Filter.Message.OrgID: $gt needs a number or an RFC 3339 time"]);
  });

  it("routes at intake in one round trip, and a changed filter applies to the next event", async () => {
    const org7 = await createChannel({ URL: target(), Filter: { "Message.OrgID": 7 } });
    const others = await createChannel({ URL: target(), Filter: { "Message.OrgID": { $neq: 7 } } });
    const open = await createChannel({ URL: target() });
    const post = async (orgId: number, d1: D1Database = env.DB) => {
      const res = await postEvent(uniqueUserRegistered({ OrgID: orgId }), {}, { DB: d1, DELIVERIES: recordingQueue() });
      const { ID } = await res.json<any>();
      const rows = await env.DB.prepare("select channel_id from deliveries where event_id = ?").bind(ID).all<{ channel_id: string }>();
      return rows.results.map((r) => r.channel_id);
    };
    const mine = (ids: string[]) => ids.filter((id) => [org7.ID, others.ID, open.ID].includes(id)).sort();
    expect(mine(await post(7))).toEqual([org7.ID, open.ID].sort());
    // The cache is warm now: one round trip.
    const { db, counter } = countingD1(env.DB);
    expect(mine(await post(8, db))).toEqual([others.ID, open.ID].sort());
    expect(counter.roundTrips).toBe(1);
    // A changed filter is never judged from the stale cache.
    await api("PATCH", `/portal-api/webhooks/${org7.ID}`, { Filter: { "Message.OrgID": 8 } });
    expect(mine(await post(8))).toEqual([org7.ID, others.ID, open.ID].sort());
    expect(mine(await post(7))).toEqual([open.ID]);
    await api("PATCH", `/portal-api/webhooks/${org7.ID}`, { Filter: null });
    expect(mine(await post(7))).toEqual([org7.ID, open.ID].sort());
  });

  it("routes a filtered channel's newly subscribed type right the first time", async () => {
    const channel = await createChannel({ URL: target(), Events: ["UserRegistered"], Filter: { "Message.Name": { $exist: true } } });
    const post = async (body: string) => {
      const res = await postEvent(body, {}, { DELIVERIES: recordingQueue() });
      const { ID } = await res.json<any>();
      return (await env.DB.prepare("select count(*) as n from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<{ n: number }>())!
        .n;
    };
    expect(await post(uniqueUserRegistered())).toBe(0); // a user has no Name: filtered out, and the filter is now cached
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["UserRegistered", "OrganisationRegistered"] });
    const org = JSON.stringify({
      Event: "OrganisationRegistered",
      Message: { ID: Date.now(), Name: "ACME", CreatedAt: "2024-04-22T16:38:54Z" },
      Timestamp: new Date().toISOString(),
    });
    expect(await post(org)).toBe(1);
  });

  it("previews a filter on the last 20 events of a type, and a format's message", async () => {
    const res = await api("POST", "/portal-api/routing/preview", { Event: "UserRegistered", Format: "slack", Filter: { "Message.OrgID": 7 } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(JSON.parse(body.Body).text).toMatch(/^New user registered: /);
    expect(body.Matches.length).toBeGreaterThan(0);
    expect(body.Matches.length).toBeLessThanOrEqual(20);
    for (const m of body.Matches) {
      const stored = await env.DB.prepare("select body from events where id = ?").bind(m.ID).first<{ body: string }>();
      expect(m.Matched).toBe(JSON.parse(stored!.body).Message.OrgID === 7);
    }
    const bad = await api("POST", "/portal-api/routing/preview", { Event: "UserRegistered", Filter: { "Message.OrgID": { $gt: "x" } } });
    expect(bad.status).toBe(422);
  });
});

describe("Filters on operational events", () => {
  const deliveriesOf = async (channelId: string) =>
    (
      await env.DB.prepare("select e.type, e.body from deliveries d join events e on e.id = d.event_id where d.channel_id = ? order by d.id")
        .bind(channelId)
        .all<{ type: string; body: string }>()
    ).results.map((r) => `${r.type} ${JSON.parse(r.body).Message.WebhookName}`);

  it("sends an ops channel only the failures its filter matches, cache cold or warm, in 2 round trips when warm", async () => {
    const name = `Old CRM ${crypto.randomUUID()}`;
    const types = ["Dispatcher.DeliveryFailed", "Dispatcher.WebhookDisabled"];
    const miss = await createChannel({ URL: target(), Events: types, Filter: { "Message.WebhookName": "no-such-channel" } });
    const hit = await createChannel({ URL: target(), Events: types, Filter: { "Message.WebhookName": name } });
    const open = await createChannel({ URL: target(), Events: types });

    // A 410 ends the delivery failed and disables its channel: both events are raised.
    const gone = await createChannel({ Name: name, URL: target("status/410") });
    await consume([(await makeDelivery(gone.ID)).deliveryId]);
    expect(await deliveriesOf(miss.ID)).toEqual([]);
    expect((await deliveriesOf(hit.ID)).sort()).toEqual([`Dispatcher.DeliveryFailed ${name}`, `Dispatcher.WebhookDisabled ${name}`]);
    expect(await deliveriesOf(open.ID)).toHaveLength(2);

    // The filters are cached now: the consumer's batch stays one read and one write.
    const other = await createChannel({ Name: "Another", URL: target("status/410") });
    const { deliveryId } = await makeDelivery(other.ID);
    const { db, counter } = countingD1(env.DB);
    await consume([deliveryId], { DB: db });
    expect(counter.roundTrips).toBe(2);
    expect(await deliveriesOf(miss.ID)).toEqual([]);
    expect(await deliveriesOf(hit.ID)).toHaveLength(2);
    expect((await deliveriesOf(open.ID)).slice(2).sort()).toEqual(["Dispatcher.DeliveryFailed Another", "Dispatcher.WebhookDisabled Another"]);
  });
});

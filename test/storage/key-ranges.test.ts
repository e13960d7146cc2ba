/**
 * Every read is a range of a primary key or an index: the lists newest first, merged from
 * each channel's (each type's) key range, and the plan of every statement the admin API,
 * the intake, the consumer and the sweeper run.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { countingD1, recordingQueue } from "../doubles";
import { ADMIN, api, consume, createChannel, INTAKE, makeDelivery, runSweep, target, uniqueUserRegistered } from "../helpers";
import { fullScans } from "./query-plans";

describe("lists newest first", () => {
  // Three channels' deliveries made at interleaved times, a second apart, oldest first; a
  // day further ahead each time, so that they are the newest this file's database holds.
  let days = 0;
  async function interleaved() {
    const channels = await Promise.all([createChannel(), createChannel(), createChannel()]);
    const start = Date.now() + ++days * 86400_000;
    const made = [];
    for (let i = 0; i < 9; i++)
      made.push({ ...(await makeDelivery(channels[(i * 2) % 3]!.ID, undefined, start + i * 1000)), channel: channels[(i * 2) % 3]!.ID });
    return { channels, newestFirst: made.reverse(), start };
  }

  const pages = async (path: string) => {
    const ids = [];
    for (let page = 1; page <= 4; page++) {
      const res = await api("GET", `${path}${path.includes("?") ? "&" : "?"}per_page=2&page=${page}`);
      expect(res.status).toBe(200);
      ids.push(...(await res.json<{ ID: string }[]>()).map((d) => d.ID));
    }
    return ids;
  };

  it("across channels, page by page, merged from each channel's key range", async () => {
    const { newestFirst, start } = await interleaved();
    const since = new Date(start).toISOString();
    expect(await pages(`/portal-api/deliveries?since=${since}`)).toEqual(newestFirst.slice(0, 8).map((d) => d.deliveryId));
    // Narrowed by time: [start + 2 s, start + 6 s).
    const window = `since=${new Date(start + 2000).toISOString()}&until=${new Date(start + 6000).toISOString()}`;
    expect(await pages(`/portal-api/deliveries?${window}`)).toEqual(newestFirst.slice(3, 7).map((d) => d.deliveryId));
    const one = newestFirst[0]!;
    expect(await pages(`/portal-api/webhooks/${one.channel}/deliveries`)).toEqual(
      newestFirst.filter((d) => d.channel === one.channel).map((d) => d.deliveryId),
    );
  });

  it("across channels, when few match: from the last hour, the last day, then everything", async () => {
    const channels = await Promise.all([createChannel(), createChannel()]);
    const now = Date.now();
    const agesMs = [10 * 60_000, 20 * 60_000, 2 * 3600_000, 3 * 3600_000, 2 * 86400_000];
    const made = [];
    for (const [i, age] of agesMs.entries()) made.push((await makeDelivery(channels[i % 2]!.ID, undefined, now - age)).deliveryId);
    await env.DB.prepare("update deliveries set status = 'cancelled' where id in (select value from json_each(?))").bind(JSON.stringify(made)).run();
    expect(await pages("/portal-api/deliveries?status=cancelled")).toEqual(made);
  });

  it("across event types, page by page", async () => {
    const { newestFirst, start } = await interleaved();
    const other = timeOrderedId(start + 8500);
    await env.DB.prepare("insert into events (id, type, body, received_at) values (?, 'PasswordReset', '{}', ?)")
      .bind(other, start + 8500)
      .run();
    const listed = await pages("/portal-api/events");
    expect(listed.slice(0, 5)).toEqual([other, ...newestFirst.slice(0, 4).map((d) => d.eventId)]);
    expect((await pages("/portal-api/events?type=PasswordReset"))[0]).toBe(other);
  });
});

describe("every read is a key range or an index", () => {
  it("for the admin API, the intake, the consumer and the sweeper", async () => {
    const { db, counter } = countingD1(env.DB);
    const bindings = { DB: db, DELIVERIES: recordingQueue() };
    const call = async (method: string, path: string, body?: unknown, headers = ADMIN) => {
      const res = await api(method, path, body, headers, bindings);
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.json<any>();
    };
    const channel = await createChannel({ URL: target("status/500") });
    const other = await createChannel({ URL: target("ok") });
    const event = uniqueUserRegistered();
    const posted = await call("POST", "/events", JSON.parse(event), INTAKE);
    await call("POST", "/events", JSON.parse(event), INTAKE); // the duplicate
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId], { DB: db, RETRY_SCHEDULE: "1" });
    const since = new Date(Date.now() - 3600_000).toISOString();
    for (const path of [
      `/portal-api/webhooks/${channel.ID}/deliveries`,
      `/portal-api/webhooks/${channel.ID}/deliveries?status=failed`,
      "/portal-api/deliveries",
      `/portal-api/deliveries?status=retrying&event_type=UserRegistered&since=${since}`,
      `/portal-api/deliveries?event_id=${posted.ID}`,
      `/portal-api/deliveries?webhook_id=${other.ID}&status=pending`,
      `/portal-api/deliveries/${deliveryId}`,
      "/portal-api/events",
      "/portal-api/events?type=UserRegistered",
      `/portal-api/events/${posted.ID}`,
      "/portal-api/stats",
      `/portal-api/stats?webhook_id=${channel.ID}&since=${since}`,
      "/portal-api/intake",
    ]) {
      await call("GET", path);
    }
    await call("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    await call("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: since });
    await call("POST", "/portal-api/deliveries/recover", { Since: since, DryRun: true });
    await call("POST", "/portal-api/deliveries/recover", { Since: since, EventType: "UserRegistered" });
    await call("PATCH", `/portal-api/webhooks/${other.ID}`, { Paused: true });
    await call("PATCH", `/portal-api/webhooks/${other.ID}`, { Paused: false });
    await runSweep(bindings, Date.now() + 3600_000);
    await call("DELETE", `/portal-api/webhooks/${channel.ID}`);
    expect(counter.statements.length).toBeGreaterThan(30);
    expect(await fullScans(counter.statements, { sweeperLook: true })).toEqual([]);
  });
});

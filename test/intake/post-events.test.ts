/** POST /events: a portal event accepted, stored byte for byte, and one delivery queued per subscribed channel, in one round trip. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { countingD1, recordingQueue } from "../doubles";
import { seed, uniqueUserRegistered } from "../helpers";
import { deliveriesOf, insertChannel, noChannels, post } from "./posting";

beforeEach(noChannels);

describe("POST /events", () => {
  it.each(seed.map((s) => [s.type, s.body]))("accepts the seed's %s sample as printed and stores it byte for byte", async (type, body) => {
    const subscribed = [await insertChannel([type]), await insertChannel([type, "RegisterInvite"])];
    await insertChannel([type], false);
    await insertChannel([type === "UserRegistered" ? "PasswordReset" : "UserRegistered"]);

    const { res, queue } = await post(body);
    expect(res.status).toBe(202);
    const answer = await res.json<any>();
    expect(answer).toEqual({ ID: expect.any(String), Deliveries: 2 });

    const stored = await env.DB.prepare("select type, body from events where id = ?").bind(answer.ID).first<any>();
    expect(stored.type).toBe(type);
    expect(stored.body).toBe(body);

    const rows = await deliveriesOf(answer.ID);
    expect(rows.map((r) => r.channel_id).sort()).toEqual(subscribed.sort());
    expect(rows.every((r) => r.status === "pending" && r.event_type === type)).toBe(true);
    expect(queue.ids.sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("accepts RegisterInvite with any object as Message", async () => {
    const { res } = await post(JSON.stringify({ Event: "RegisterInvite", Message: { Anything: [1, { x: null }] }, Timestamp: "2024-04-18T13:29:23Z" }));
    expect(res.status).toBe(202);
  });

  it("keeps unknown extra fields, and accepts any offset and up to 9 fractional digits", async () => {
    const body = uniqueUserRegistered({ NewField: { nested: true }, CreatedAt: "2024-04-24T15:26:04.312618088-07:30" });
    const { res } = await post(body);
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const stored = await env.DB.prepare("select body from events where id = ?").bind(ID).first<any>();
    expect(stored.body).toBe(body);
  });

  it("queues 250 subscribed channels as 250 deliveries in 3 sendBatch calls of at most 100", async () => {
    for (let i = 0; i < 250; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => insertChannel(["ApplicationRegistered"])));
    }
    const body = JSON.stringify({
      Event: "ApplicationRegistered",
      Message: { ID: 1, Name: "New App", UserID: 1, CreatedAt: "2024-04-18T13:29:23.738726+02:00" },
      Timestamp: new Date().toISOString(),
    });
    const { res, queue } = await post(body);
    expect(res.status).toBe(202);
    const { ID, Deliveries } = await res.json<any>();
    expect(Deliveries).toBe(250);
    expect((await deliveriesOf(ID)).length).toBe(250);
    expect(queue.sent.map((batch) => batch.length)).toEqual([100, 100, 50]);
    expect(new Set(queue.ids).size).toBe(250);
  });

  it("makes the same number of D1 round trips (one) whatever the number of channels, and writes 2 rows per delivery", async () => {
    const trips = [];
    const written = [];
    for (const channels of [1, 40]) {
      await env.DB.prepare("delete from channels").run();
      await Promise.all(Array.from({ length: channels }, () => insertChannel(["UserRegistered"])));
      const { db, counter } = countingD1(env.DB);
      const { res } = await post(uniqueUserRegistered(), {}, { DB: db });
      expect(res.status).toBe(202);
      expect((await res.json<any>()).Deliveries).toBe(channels);
      trips.push(counter.roundTrips);
      written.push(counter.rowsWritten);
    }
    expect(trips).toEqual([1, 1]);
    // Rows D1 bills: the event, its row (the primary key is the table) and its body hash
    // for the dedupe (2); per delivery, its row and its entry in the live index (2).
    expect(written).toEqual([2 + 2 * 1, 2 + 2 * 40]);
  });

  it("still answers 202 when the queue refuses, leaving the deliveries pending for the sweeper", async () => {
    await insertChannel(["UserRegistered"]);
    const { res } = await post(uniqueUserRegistered(), {}, { DELIVERIES: recordingQueue(true) });
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const rows = await deliveriesOf(ID);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe("pending");
  });
});

/** Event and delivery ids: UUIDv7s in time order, counted within a millisecond, a delivery's led by its event's. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { idFloor, timeOrderedId } from "../../src/db/ids";
import type { DeliveryMessage } from "../../src/db/records";
import { recordingQueue } from "../doubles";
import { createChannel, postEvent, uniqueUserRegistered } from "../helpers";
import { UUID_V7 } from "./uuid-v7";

describe("ids", () => {
  it("are UUIDv7s of their time, so key order is time order", () => {
    const at = Date.UTC(2026, 10, 29, 6, 20, 15, 123);
    const id = timeOrderedId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(idFloor(at) < id && id < idFloor(at + 1)).toBe(true);
    expect(timeOrderedId(at - 1) < id && id < timeOrderedId(at + 1)).toBe(true);
  });

  it("increase within one millisecond, as Workers' clock stands still during a request (RFC 9562 §6.2)", () => {
    const at = Date.now() + 7 * 86400_000;
    const ids = Array.from({ length: 2000 }, () => timeOrderedId(at));
    expect(ids.every((id) => id.slice(0, 13) === idFloor(at))).toBe(true);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("an event's deliveries carry its time in their ids", async () => {
    const channels = await Promise.all([createChannel(), createChannel()]);
    const queue = recordingQueue();
    const res = await postEvent(uniqueUserRegistered(), {}, { DELIVERIES: queue });
    const { ID } = await res.json<{ ID: string }>();
    expect(ID).toMatch(UUID_V7);
    const event = await env.DB.prepare("select received_at from events where id = ?").bind(ID).first<{ received_at: number }>();
    expect(ID.slice(0, 13)).toBe(idFloor(event!.received_at));
    const sent = queue.sent.flat().map((m) => m.body as DeliveryMessage);
    expect(sent.map((m) => m.channelId).sort()).toEqual(channels.map((c) => c.ID).sort());
    for (const m of sent) {
      expect(m.deliveryId).toMatch(UUID_V7);
      expect(m.deliveryId.slice(0, 13)).toBe(ID.slice(0, 13));
    }
  });
});

describe("ids made in one request", () => {
  it("events posted in one millisecond, and their deliveries, list in the order they came", async () => {
    const channel = await createChannel();
    const queue = recordingQueue();
    const post = () => postEvent(uniqueUserRegistered(), {}, { DELIVERIES: queue });
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push((await (await post()).json<{ ID: string }>()).ID);
    expect([...posted].sort()).toEqual(posted);
    const deliveries = queue.sent
      .flat()
      .map((m) => (m.body as DeliveryMessage).deliveryId)
      .filter((id, i, all) => all.indexOf(id) === i);
    const ofChannel = queue.sent
      .flat()
      .filter((m) => (m.body as DeliveryMessage).channelId === channel.ID)
      .map((m) => m.body.deliveryId);
    expect(ofChannel).toHaveLength(5);
    expect([...ofChannel].sort()).toEqual(ofChannel);
    // A delivery's id sorts with its event: the event's time and counter lead it.
    expect(ofChannel.map((id) => id.slice(0, 23))).toEqual(posted.map((id) => id.slice(0, 23)));
    expect(deliveries.length).toBeGreaterThanOrEqual(5);
  });
});

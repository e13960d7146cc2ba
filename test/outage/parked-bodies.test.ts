/**
 * The bytes of a large event parked during a D1 outage, kept in a ParkedBodies Durable
 * Object, are never left behind: dropped when the queue then refuses the event, after 14
 * days unread, and once the event is stored.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type ParkedBodies, UNREAD_BODY_TTL_MS } from "../../src/intake/parked-bodies";
import { recordingQueue } from "../doubles";
import { count, createChannel, runQueue, target } from "../helpers";
import { down, largeBody, parkedMessage, parkedQueue, post, STORE } from "./d1-outage";

/** The PARKED_BODIES binding, noting the names of the objects asked for. */
function namingBodies() {
  const names: string[] = [];
  const binding = new Proxy(env.PARKED_BODIES, {
    get(target, prop) {
      if (prop === "idFromName") {
        return (name: string) => {
          names.push(name);
          return target.idFromName(name);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { binding, names };
}

const alarmOf = (stub: DurableObjectStub<ParkedBodies>) => runInDurableObject(stub, (_, state) => state.storage.getAlarm());

beforeEach(async () => {
  await env.DB.prepare("delete from channels").run();
});

describe("bodies of parked events are never left behind", () => {
  it("drops the body it kept when the storing queue then refuses the event (answered 503)", async () => {
    const bodies = namingBodies();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await post(largeBody(), { DB: down(), STORING: parkedQueue(true), PARKED_BODIES: bodies.binding });
    expect(res.status).toBe(503);
    // The object named by the refused event's id was written, and holds nothing now.
    expect(bodies.names).toHaveLength(1);
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(bodies.names[0]!));
    expect(await keeper.read()).toBeNull();
    expect(await runInDurableObject(keeper, (_, state) => state.storage.list())).toHaveProperty("size", 0);
    expect(await alarmOf(keeper)).toBeNull();
  });

  it("drops bytes nobody read for 14 days with an alarm; each read puts it off", async () => {
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(`orphan-${crypto.randomUUID()}`));
    const before = Date.now();
    await keeper.keep(new TextEncoder().encode("x".repeat(100_000)).buffer as ArrayBuffer);
    expect(await alarmOf(keeper)).toBeGreaterThanOrEqual(before + UNREAD_BODY_TTL_MS);

    // A parked event's message reads them each time it is handled: the alarm moves on.
    await runInDurableObject(keeper, (_, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect((await keeper.read())?.byteLength).toBe(100_000);
    expect(await alarmOf(keeper)).toBeGreaterThanOrEqual(before + UNREAD_BODY_TTL_MS);

    vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await runDurableObjectAlarm(keeper)).toBe(true);
    expect(await keeper.read()).toBeNull();
  });

  it("forgets the body, and its alarm, once the event is stored", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage(largeBody());
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(parked.id));
    expect(await alarmOf(keeper)).not.toBeNull();
    await runQueue(STORE, [parked], { DELIVERIES: recordingQueue() });
    expect(await count("events", "id = ?", parked.id)).toBe(1);
    expect(await keeper.read()).toBeNull();
    expect(await alarmOf(keeper)).toBeNull();
  });
});

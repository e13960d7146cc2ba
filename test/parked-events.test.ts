import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import type { DeliveryMessage, ParkedEvent } from "../src/db/records";
import { type ParkedBodies, UNREAD_BODY_TTL_MS } from "../src/intake/parked-bodies";
import { DEAD_LETTER_RETRY_SECONDS } from "../src/intake/store-dead-letters";
import wranglerToml from "../wrangler.toml?raw";
import { recordingQueue } from "./doubles";
import { faultyD1, newFaultPlan } from "./faults/faulty-d1";
import { count, createChannel, INTAKE, target, uniqueUserRegistered, worker } from "./helpers";

/*
 * What becomes of events parked during a D1 outage when more goes wrong: a large body
 * kept for an event the queue then refused, bytes nobody reads any more, and a parked
 * event that keeps crashing the storing consumer (its dead-letter queue).
 */

const STORE_DLQ = "tyk-webhook-events-to-store-dlq";

/** The whole database down (D1's "overloaded" error on every call). */
const down = () => {
  const plan = newFaultPlan();
  plan.outageUntil = Number.POSITIVE_INFINITY;
  return faultyD1(env.DB, plan);
};

/** A queue for parked events that keeps what it is sent, with the delays (or refuses everything). */
function parkedQueue(fail = false) {
  const sent: { body: ParkedEvent; delaySeconds?: number }[] = [];
  return {
    sent,
    async send(body: ParkedEvent, options?: { delaySeconds?: number }) {
      if (fail) throw new Error("queue unavailable");
      sent.push({ body: structuredClone(body), delaySeconds: options?.delaySeconds });
    },
    async sendBatch() {
      throw new Error("not used");
    },
  };
}

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

/** A body of about 200 KB: too large for a queue message, so its bytes go to a ParkedBodies object. */
const largeBody = () => uniqueUserRegistered({ Padding: "x".repeat(200 * 1024) });

function post(body: string, bindings: Record<string, unknown>) {
  return app.request(
    "/events",
    { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body },
    { ...env, DELIVERIES: recordingQueue(), ...bindings },
  );
}

/** Parks an event (D1 down) and returns its storing queue message. */
async function parkedMessage(body = uniqueUserRegistered()): Promise<ParkedEvent> {
  const storing = parkedQueue();
  const res = await post(body, { DB: down(), STORING: storing });
  expect(res.status).toBe(202);
  return storing.sent[0]!.body;
}

/** Runs the worker's queue handler on `queue`'s messages, with these bindings. */
async function consumeFrom(queue: string, bodies: unknown[], bindings: Record<string, unknown> = {}) {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const retry = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<DeliveryMessage>, { ...env, ...bindings } as typeof env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { acked: result.explicitAcks, retried: result.retryMessages.map((m: { msgId: string }) => m.msgId), retryBatch: result.retryBatch, retry };
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
    await consumeFrom("tyk-webhook-events-to-store", [parked], { DELIVERIES: recordingQueue() });
    expect(await count("events", "id = ?", parked.id)).toBe(1);
    expect(await keeper.read()).toBeNull();
    expect(await alarmOf(keeper)).toBeNull();
  });
});

describe("the storing queue's dead letters", () => {
  it("wrangler.toml gives the storing queue a dead-letter queue that this worker consumes and can send to", () => {
    const consumers = wranglerToml.split("[[queues.consumers]]").slice(1);
    const storing = consumers.find((b) => /^queue = "tyk-webhook-events-to-store"$/m.test(b));
    expect(storing).toMatch(new RegExp(`^dead_letter_queue = "${STORE_DLQ}"$`, "m"));
    expect(consumers.some((b) => new RegExp(`^queue = "${STORE_DLQ}"$`, "m").test(b))).toBe(true);
    expect(wranglerToml).toMatch(new RegExp(`binding = "STORING_DEAD_LETTERS"\\nqueue = "${STORE_DLQ}"`));
  });

  it("stores a dead-lettered parked event once D1 takes it, and queues its deliveries", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    const deliveries = recordingQueue();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { acked } = await consumeFrom(STORE_DLQ, [parked], { DELIVERIES: deliveries });
    expect(acked).toEqual(["m0"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);
    expect(deliveries.ids).toHaveLength(1);
  });

  it("keeps one D1 still cannot take: back in its queue an hour later, with an error each time, never dropped", async () => {
    const parked = await parkedMessage(largeBody());
    const deadLetters = parkedQueue();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const first = await consumeFrom(STORE_DLQ, [parked], { DB: down(), STORING_DEAD_LETTERS: deadLetters });
    expect(first.acked).toEqual(["m0"]);
    expect(deadLetters.sent).toEqual([{ body: { ...parked, deadLettered: 1 }, delaySeconds: DEAD_LETTER_RETRY_SECONDS }]);
    expect(errors.mock.calls.flat().join("\n")).toContain(`"eventId":"${parked.id}"`);
    // Its bytes are still kept, for the next hour's try.
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(parked.id));
    expect(await keeper.read()).not.toBeNull();

    // The queue refuses too: retried by Queues rather than dropped.
    const second = await consumeFrom(STORE_DLQ, [deadLetters.sent[0]!.body], { DB: down(), STORING_DEAD_LETTERS: parkedQueue(true) });
    expect(second.acked).toEqual([]);
    expect(second.retry[0]).toHaveBeenCalledWith({ delaySeconds: DEAD_LETTER_RETRY_SECONDS });

    // D1 back: stored under its id, from the kept bytes.
    await consumeFrom(STORE_DLQ, [deadLetters.sent[0]!.body], { DELIVERIES: recordingQueue() });
    expect(await count("events", "id = ?", parked.id)).toBe(1);
  });

  it("retries a storing message that is not an event on its own, and its dead letter is logged and dropped", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const stored = await consumeFrom("tyk-webhook-events-to-store", [null, parked], { DELIVERIES: recordingQueue() });
    // Only the bad message spends a retry; the event beside it is stored.
    expect(stored.retryBatch.retry).toBe(false);
    expect(stored.retried).toEqual(["m0"]);
    expect(stored.acked).toEqual(["m1"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);

    const dropped = await consumeFrom(STORE_DLQ, [{ junk: true }]);
    expect(dropped.acked).toEqual(["m0"]);
    expect(errors.mock.calls.flat().join("\n")).toContain("not a parked event");
  });

  it("stores parked events even while another var is bad (a 503 for everything else)", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { acked, retryBatch } = await consumeFrom("tyk-webhook-events-to-store", [parked], { DELIVERIES: recordingQueue(), RETRY_SCHEDULE: "abc" });
    expect(retryBatch.retry).toBe(false);
    expect(acked).toEqual(["m0"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);
  });
});

/**
 * The contract's *Intake* through a database outage: an event accepted while D1 is down
 * waits on the storing queue (its large body in a Durable Object) and is stored later
 * under the ID it was answered with; D1 retried within the request.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { ParkedEvent } from "../../src/db/records";
import { MAX_INLINE_BYTES } from "../../src/intake/parked";
import { base64ToBytes } from "../../src/security/encoding";
import { recordingQueue } from "../doubles";
import { faultyD1, newFaultPlan } from "../faults/faulty-d1";
import { api, consume, count, createChannel, delivery, runQueue, target, uniqueUserRegistered } from "../helpers";
import { committedThenLost, down, parkedQueue, post, STORE } from "./d1-outage";

/** Runs the storing queue's consumer on these messages, with a healthy D1. */
async function store(messages: ParkedEvent[], deliveries = recordingQueue()) {
  const result = await runQueue(STORE, messages, { DELIVERIES: deliveries });
  return { result, deliveries };
}

async function storedEvent(id: string) {
  return env.DB.prepare("select id, body, received_at from events where id = ?").bind(id).first<{ id: string; body: string; received_at: number }>();
}

async function deliveriesOfEvent(eventId: string) {
  return (
    await env.DB.prepare("select id, channel_id, status from deliveries where event_id = ?")
      .bind(eventId)
      .all<{ id: string; channel_id: string; status: string }>()
  ).results;
}

beforeEach(async () => {
  // Each test decides which channels exist.
  await env.DB.prepare("delete from channels").run();
});

describe("POST /events while D1 is down", () => {
  it("answers 202 with the ID and Deliveries null once the event is on the storing queue; stored later under that ID, delivered, a duplicate if posted again", async () => {
    const channel = await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const body = uniqueUserRegistered();
    const storing = parkedQueue();
    const res = await post(body, { DB: down(), STORING: storing }, { "Idempotency-Key": `outage-${crypto.randomUUID()}` });
    expect(res.status).toBe(202);
    const answer = await res.json<{ ID: string; Deliveries: null }>();
    expect(answer).toEqual({ ID: expect.any(String), Deliveries: null });
    expect(await storedEvent(answer.ID)).toBeNull();
    expect(storing.bodies).toHaveLength(1);
    expect(new TextDecoder().decode(base64ToBytes(storing.bodies[0]!.body64!))).toBe(body);

    // D1 is back: the storing consumer stores it byte for byte under the same ID, and queues its delivery.
    const { result, deliveries } = await store(storing.bodies);
    expect(result.acked).toEqual(["msg-0"]);
    const stored = await storedEvent(answer.ID);
    expect(stored?.body).toBe(body);
    expect(stored?.received_at).toBe(storing.bodies[0]!.receivedAt);
    const rows = await deliveriesOfEvent(answer.ID);
    expect(rows).toMatchObject([{ channel_id: channel.ID, status: "pending" }]);
    expect(deliveries.ids).toEqual([rows[0]!.id]);

    // Delivered as any other event.
    await consume(deliveries.ids);
    expect((await delivery(rows[0]!.id)).status).toBe("succeeded");

    // The same body again: a duplicate of the event accepted during the outage.
    const again = await post(body, {});
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ID: answer.ID, Deliveries: 1, Duplicate: true });

    // The stats count it as accepted during an outage and stored later.
    const stats = await (await api("GET", `/portal-api/stats?since=${new Date(Date.now() - 60_000).toISOString()}`)).json<{ StoredLate: number }>();
    expect(stats.StoredLate).toBeGreaterThanOrEqual(1);
  });

  it("keeps a 256 KiB event, too large for a queue message, in a Durable Object until it is stored", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const padding = "é".repeat(1000) + "x".repeat(256 * 1024);
    let body = uniqueUserRegistered({ Padding: "" });
    body = body.replace('"Padding":""', `"Padding":"${padding.slice(0, 256 * 1024 - new TextEncoder().encode(body).length - 1000)}"`);
    const size = new TextEncoder().encode(body).length;
    expect(size).toBeGreaterThan(255 * 1024);
    expect(size).toBeLessThanOrEqual(256 * 1024);

    const storing = parkedQueue();
    const res = await post(body, { DB: down(), STORING: storing });
    expect(res.status).toBe(202);
    const { ID } = await res.json<{ ID: string }>();
    // The message carries no body; the Durable Object named by the event's id has it.
    expect(storing.bodies[0]!.body64).toBeUndefined();
    expect(size).toBeGreaterThan(MAX_INLINE_BYTES);
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(ID));
    expect(new TextDecoder().decode((await keeper.read())!)).toBe(body);

    const { deliveries } = await store(storing.bodies);
    expect((await storedEvent(ID))?.body).toBe(body);
    expect(deliveries.ids).toHaveLength(1);
    // Forgotten once stored; a copy of the message then finds nothing to do and stores nothing twice.
    expect(await keeper.read()).toBeNull();
    await store(storing.bodies);
    expect(await deliveriesOfEvent(ID)).toHaveLength(1);
  });

  it("answers 503 with Retry-After, and stores nothing, only when neither D1 nor the queue takes it", async () => {
    const body = uniqueUserRegistered();
    const res = await post(body, { DB: down(), STORING: parkedQueue(true) });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await res.json<{ errors: string[] }>()).errors[0]).toMatch(/^server: /);
    expect(await count("events", "body = ?", body)).toBe(0);
  });

  it("makes an event parked during the outage a duplicate, with no deliveries, when the same body was stored meanwhile", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const body = uniqueUserRegistered();
    const storing = parkedQueue();
    const parked = await (await post(body, { DB: down(), STORING: storing })).json<{ ID: string }>();
    // The portal sent it again once D1 was back, before the parked copy was stored.
    const direct = await post(body, {});
    expect(direct.status).toBe(202);
    const { ID } = await direct.json<{ ID: string }>();

    const { deliveries } = await store(storing.bodies);
    expect(deliveries.ids).toEqual([]);
    expect(await storedEvent(parked.ID)).toBeNull();
    expect(await count("events", "body = ?", body)).toBe(1);
    expect(await deliveriesOfEvent(ID)).toHaveLength(1);
  });

  it("stores a parked event once however often its message comes", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const storing = parkedQueue();
    const { ID } = await (await post(uniqueUserRegistered(), { DB: down(), STORING: storing })).json<{ ID: string }>();
    await store([storing.bodies[0]!, storing.bodies[0]!]);
    await store(storing.bodies);
    expect(await count("events", "id = ?", ID)).toBe(1);
    expect(await deliveriesOfEvent(ID)).toHaveLength(1);
    expect(await count("events_stored_late", "event_id = ?", ID)).toBe(1);
  });

  it("retries D1 within the request, without a second delivery when the failed try had committed", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    // The first batch commits, then D1 answers "Network connection lost".
    const flaky = committedThenLost();
    const queue = recordingQueue();
    const res = await post(uniqueUserRegistered(), { DB: flaky, DELIVERIES: queue });
    expect(res.status).toBe(202);
    const { ID, Deliveries } = await res.json<{ ID: string; Deliveries: number }>();
    expect(Deliveries).toBe(1);
    expect(flaky.batches()).toBe(2);
    expect(await count("events", "id = ?", ID)).toBe(1);
    expect((await deliveriesOfEvent(ID)).map((d) => d.id)).toEqual(queue.ids);
  });
});

describe("intake with a share of D1 calls failing", () => {
  it("stores every accepted event once, with one delivery per channel, whether a failure came before or after D1 committed", async () => {
    const channels = [await createChannel({ URL: target("ok") }), await createChannel({ URL: target("ok") })];
    const plan = newFaultPlan(0.4);
    const flaky = faultyD1(env.DB, plan);
    const storing = parkedQueue();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await post(uniqueUserRegistered(), { DB: flaky, STORING: storing });
        return { status: res.status, ...(await res.json<{ ID: string; Deliveries: number | null }>()) };
      }),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(plan.failed.before + plan.failed.after).toBeGreaterThan(0);
    await store(storing.bodies);
    for (const { ID, Deliveries } of answers) {
      expect(await count("events", "id = ?", ID)).toBe(1);
      const rows = await deliveriesOfEvent(ID);
      expect(rows.map((d) => d.channel_id).sort()).toEqual(channels.map((c) => c.ID).sort());
      // Parked ones answered null: not known yet.
      expect([2, null]).toContain(Deliveries);
    }
  });
});

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import type { DeliveryMessage, ParkedEvent } from "../src/db/records";
import { MAX_INLINE_BYTES } from "../src/intake/parked";
import { base64ToBytes } from "../src/security/encoding";
import { sweep } from "../src/sweeper/sweep";
import { recordingQueue } from "./doubles";
import { faultyD1, newFaultPlan } from "./faults/faulty-d1";
import { ADMIN, api, attemptsOf, consume, count, createChannel, delivery, INTAKE, makeDelivery, target, uniqueUserRegistered, worker } from "./helpers";

/*
 * The contract's *Intake* through a database outage, and the consumer, the dead-letter
 * path and the sweeper under D1's trouble. D1's faults come from test/faults/faulty-d1.ts,
 * around the real binding.
 */

/** The whole database down (D1's "overloaded" error on every call). */
const down = () => {
  const plan = newFaultPlan();
  plan.outageUntil = Number.POSITIVE_INFINITY;
  return faultyD1(env.DB, plan);
};

/** The channel's hourly counts, summed: deliveries succeeded, and attempts in the latency histogram. */
async function countsOf(channelId: string) {
  const { results } = await env.DB.prepare("select succeeded, latency from delivery_counts where channel_id = ?")
    .bind(channelId)
    .all<{ succeeded: number; latency: string }>();
  return {
    succeeded: results.reduce((n, r) => n + r.succeeded, 0),
    latencySamples: results.reduce((n, r) => n + (JSON.parse(r.latency) as (number | null)[]).reduce<number>((m, k) => m + (k ?? 0), 0), 0),
  };
}

/** D1 whose first batch commits and then answers "Network connection lost" (what D1 may do). */
function committedThenLost(): D1Database & { batches: () => number } {
  let batches = 0;
  return new Proxy(env.DB as D1Database & { batches: () => number }, {
    get(target, prop) {
      if (prop === "batches") return () => batches;
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          if (++batches === 1) throw new Error("D1_ERROR: Network connection lost.");
          return results;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A storing queue that keeps what it is sent (or refuses everything). */
function storingQueue(fail = false) {
  const sent: ParkedEvent[] = [];
  return {
    sent,
    async send(body: ParkedEvent) {
      if (fail) throw new Error("queue unavailable");
      // As Queues would: a copy, not the object the sender still holds.
      sent.push(structuredClone(body));
    },
    async sendBatch() {
      throw new Error("not used");
    },
  };
}

/** POST /events through the app with these bindings in place of the real ones. */
function post(body: string, bindings: Record<string, unknown>, headers: Record<string, string> = {}) {
  return app.request(
    "/events",
    { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json", ...headers }, body },
    { ...env, DELIVERIES: recordingQueue(), ...bindings },
  );
}

/** Runs the storing queue's consumer on these messages, with a healthy D1. */
async function store(messages: ParkedEvent[], deliveries = recordingQueue()) {
  const batch = createMessageBatch<ParkedEvent>(
    "tyk-webhook-events-to-store",
    messages.map((body, i) => ({ id: `store-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as unknown as MessageBatch<DeliveryMessage>, { ...env, DELIVERIES: deliveries } as unknown as typeof env, ctx);
  const result = await getQueueResult(batch, ctx);
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
    const storing = storingQueue();
    const res = await post(body, { DB: down(), STORING: storing }, { "Idempotency-Key": `outage-${crypto.randomUUID()}` });
    expect(res.status).toBe(202);
    const answer = await res.json<{ ID: string; Deliveries: null }>();
    expect(answer).toEqual({ ID: expect.any(String), Deliveries: null });
    expect(await storedEvent(answer.ID)).toBeNull();
    expect(storing.sent).toHaveLength(1);
    expect(new TextDecoder().decode(base64ToBytes(storing.sent[0]!.body64!))).toBe(body);

    // D1 is back: the storing consumer stores it byte for byte under the same ID, and queues its delivery.
    const { result, deliveries } = await store(storing.sent);
    expect(result.explicitAcks).toEqual(["store-0"]);
    const stored = await storedEvent(answer.ID);
    expect(stored?.body).toBe(body);
    expect(stored?.received_at).toBe(storing.sent[0]!.receivedAt);
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

    const storing = storingQueue();
    const res = await post(body, { DB: down(), STORING: storing });
    expect(res.status).toBe(202);
    const { ID } = await res.json<{ ID: string }>();
    // The message carries no body; the Durable Object named by the event's id has it.
    expect(storing.sent[0]!.body64).toBeUndefined();
    expect(size).toBeGreaterThan(MAX_INLINE_BYTES);
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(ID));
    expect(new TextDecoder().decode((await keeper.read())!)).toBe(body);

    const { deliveries } = await store(storing.sent);
    expect((await storedEvent(ID))?.body).toBe(body);
    expect(deliveries.ids).toHaveLength(1);
    // Forgotten once stored; a copy of the message then finds nothing to do and stores nothing twice.
    expect(await keeper.read()).toBeNull();
    await store(storing.sent);
    expect(await deliveriesOfEvent(ID)).toHaveLength(1);
  });

  it("answers 503 with Retry-After, and stores nothing, only when neither D1 nor the queue takes it", async () => {
    const body = uniqueUserRegistered();
    const res = await post(body, { DB: down(), STORING: storingQueue(true) });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await res.json<{ errors: string[] }>()).errors[0]).toMatch(/^server: /);
    expect(await count("events", "body = ?", body)).toBe(0);
  });

  it("makes an event parked during the outage a duplicate, with no deliveries, when the same body was stored meanwhile", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const body = uniqueUserRegistered();
    const storing = storingQueue();
    const parked = await (await post(body, { DB: down(), STORING: storing })).json<{ ID: string }>();
    // The portal sent it again once D1 was back, before the parked copy was stored.
    const direct = await post(body, {});
    expect(direct.status).toBe(202);
    const { ID } = await direct.json<{ ID: string }>();

    const { deliveries } = await store(storing.sent);
    expect(deliveries.ids).toEqual([]);
    expect(await storedEvent(parked.ID)).toBeNull();
    expect(await count("events", "body = ?", body)).toBe(1);
    expect(await deliveriesOfEvent(ID)).toHaveLength(1);
  });

  it("stores a parked event once however often its message comes", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const storing = storingQueue();
    const { ID } = await (await post(uniqueUserRegistered(), { DB: down(), STORING: storing })).json<{ ID: string }>();
    await store([storing.sent[0]!, storing.sent[0]!]);
    await store(storing.sent);
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
    const storing = storingQueue();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await post(uniqueUserRegistered(), { DB: flaky, STORING: storing });
        return { status: res.status, ...(await res.json<{ ID: string; Deliveries: number | null }>()) };
      }),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(plan.failed.before + plan.failed.after).toBeGreaterThan(0);
    await store(storing.sent);
    for (const { ID, Deliveries } of answers) {
      expect(await count("events", "id = ?", ID)).toBe(1);
      const rows = await deliveriesOfEvent(ID);
      expect(rows.map((d) => d.channel_id).sort()).toEqual(channels.map((c) => c.ID).sort());
      // Parked ones answered null: not known yet.
      expect([2, null]).toContain(Deliveries);
    }
  });
});

describe("the consumer under D1's trouble", () => {
  it("records an attempt once when D1 committed the write but reported it failed", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const flaky = committedThenLost();
    const result = await consume([deliveryId], { DB: flaky });
    expect(result.acked).toEqual(["msg-0"]);
    expect(flaky.batches()).toBe(2);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
    expect(await attemptsOf(deliveryId)).toHaveLength(1);
    // Counted once in the stats too: its end, and its latency.
    expect(await countsOf(channel.ID)).toEqual({ succeeded: 1, latencySamples: 1 });
  });

  it("counts a failed attempt's latency once when D1 committed the write but reported it failed", async () => {
    const channel = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const flaky = committedThenLost();
    await consume([deliveryId], { DB: flaky });
    expect(flaky.batches()).toBe(2);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", attempt_count: 1 });
    expect(await countsOf(channel.ID)).toEqual({ succeeded: 0, latencySamples: 1 });
  });

  it("sends a batch D1 cannot take back to the queue, later each time, without spending its retries or failing anything", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const queue = recordingQueue();
    const first = await consume([deliveryId], { DB: down(), DELIVERIES: queue });
    expect(first.retried).toEqual([]);
    expect(first.retriedBatch.retry).toBe(false);
    expect(queue.sent.flat()).toEqual([{ body: expect.objectContaining({ deliveryId, stalls: 1 }), delaySeconds: 10 }]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", attempt_count: 0 });

    // The same message, back for the second time: a longer wait.
    const batch = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries", [
      { id: "again", timestamp: new Date(), attempts: 1, body: queue.sent.flat()[0]!.body as DeliveryMessage },
    ]);
    const second = recordingQueue();
    await worker.queue(batch, { ...env, DB: down(), DELIVERIES: second } as unknown as typeof env, createExecutionContext());
    expect(second.sent.flat()[0]).toMatchObject({ body: { stalls: 2 }, delaySeconds: 20 });

    // D1 back: it is sent and recorded.
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
  });

  it("retries the batch (spending a retry) only when the queue refuses to take it back", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId], { DB: down(), DELIVERIES: recordingQueue(true) });
    expect(result.retriedBatch.retry).toBe(true);
  });

  it("never fails, from the dead-letter queue, a delivery whose result was never recorded", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const batch = createMessageBatch<DeliveryMessage>("tyk-webhook-deliveries-dlq", [
      { id: "dlq", timestamp: new Date(), attempts: 1, body: { deliveryId, channelId: channel.ID, generation: 0 } },
    ]);
    await worker.queue(batch, env, createExecutionContext());
    // Still live: the sweeper sends it again once it is overdue.
    expect(await delivery(deliveryId)).toMatchObject({ status: "pending", last_error: null });
  });

  it("lets the sweeper run through a D1 outage without throwing, and catch up after", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID, undefined, Date.now() - 10 * 60_000);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const during = await sweep({ ...env, DB: down() });
    expect(during.reclaimed).toEqual([]);
    expect((await delivery(deliveryId)).generation).toBe(0);
    const after = await sweep({ ...env, DELIVERIES: recordingQueue() } as unknown as typeof env);
    expect(after.reclaimed.map((r) => r.deliveryId)).toContain(deliveryId);
  });
});

describe("the admin API through a D1 outage", () => {
  it.each([
    ["GET", "/portal-api/webhooks"],
    ["GET", "/portal-api/events?q=someone"],
    ["GET", "/portal-api/deliveries"],
  ])("%s %s answers 503 with Retry-After, not a 500", async (method, path) => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await app.request(path, { method, headers: ADMIN }, { ...env, DB: down() });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await res.json()).toEqual({ errors: ["database: unavailable for a moment; try again shortly"], RequestId: res.headers.get("X-Request-Id") });
  });
});

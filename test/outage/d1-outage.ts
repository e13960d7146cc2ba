import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ParkedEvent } from "../../src/db/records";
import { recordingQueue } from "../doubles";
import { faultyD1, newFaultPlan } from "../faults/faulty-d1";
import { type Bindings, postEvent, uniqueUserRegistered } from "../helpers";

/*
 * What the tests of a D1 outage share: D1 down or losing a committed answer (faults from
 * test/faults/faulty-d1.ts, around the real binding), a storing queue that keeps what it
 * is sent, and events posted, and parked, with these in place of the real bindings.
 */

export const STORE = "tyk-webhook-events-to-store";
export const STORE_DLQ = "tyk-webhook-events-to-store-dlq";

/** The whole database down (D1's "overloaded" error on every call). */
export const down = () => {
  const plan = newFaultPlan();
  plan.outageUntil = Number.POSITIVE_INFINITY;
  return faultyD1(env.DB, plan);
};

/** D1 whose first batch commits and then answers "Network connection lost" (what D1 may do). */
export function committedThenLost(): D1Database & { batches: () => number } {
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

/** A queue for parked events that keeps what it is sent, with the delays (or refuses everything). */
export function parkedQueue(fail = false) {
  const sent: { body: ParkedEvent; delaySeconds?: number }[] = [];
  return {
    sent,
    /** The events sent, in order. */
    get bodies() {
      return sent.map((m) => m.body);
    },
    async send(body: ParkedEvent, options?: { delaySeconds?: number }) {
      if (fail) throw new Error("queue unavailable");
      // As Queues would: a copy, not the object the sender still holds.
      sent.push({ body: structuredClone(body), delaySeconds: options?.delaySeconds });
    },
    async sendBatch() {
      throw new Error("not used");
    },
  };
}

/** POST /events with these bindings, and a deliveries queue that only records (nothing reaches the real consumer). */
export function post(body: string, bindings: Bindings, headers: Record<string, string> = {}) {
  return postEvent(body, headers, { DELIVERIES: recordingQueue(), ...bindings });
}

/** A body of about 200 KB: too large for a queue message, so its bytes go to a ParkedBodies object. */
export const largeBody = () => uniqueUserRegistered({ Padding: "x".repeat(200 * 1024) });

/** Parks an event (D1 down) and returns its storing queue message. */
export async function parkedMessage(body = uniqueUserRegistered()): Promise<ParkedEvent> {
  const storing = parkedQueue();
  const res = await post(body, { DB: down(), STORING: storing });
  expect(res.status).toBe(202);
  return storing.sent[0]!.body;
}

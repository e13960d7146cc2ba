import type { Env } from "../core/env";
import { errorText, log } from "../core/log";
import type { ParkedEvent } from "../db/records";
import { bytesToBase64 } from "../security/encoding";
import type { NewEvent } from "./store";

/** Whether a storing queue message is a parked event at all (a message that is not can never be stored). */
export function isParkedEvent(body: unknown): body is ParkedEvent {
  const m = body as Partial<ParkedEvent> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.id === "string" &&
    typeof m.type === "string" &&
    typeof m.bodyHash === "string" &&
    typeof m.receivedAt === "number" &&
    (m.body64 === undefined || typeof m.body64 === "string")
  );
}

/**
 * Queues allow 128 KB a message (https://developers.cloudflare.com/queues/platform/limits/):
 * 90,000 bytes are 120,000 characters of base64, clear of it with the other fields and
 * the serialization's framing. A larger body goes to a Durable Object.
 */
export const MAX_INLINE_BYTES = 90_000;

/** The portal waits for its answer: a queue or a Durable Object that hangs must not hold it (ms). */
const PARK_WITHIN_MS = 2000;

/** How long a 503 may wait to drop the body it had kept (ms); the keeper's alarm covers the rest. */
const FORGET_WITHIN_MS = 500;

/** `within` gave up waiting: the work may still finish (and a write commit) later. */
export class TimedOut extends Error {}

/** Rejects with TimedOut after `ms` if `work` has not settled by then. */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * A D1 call intake stopped waiting for may still commit; D1 ends a query after 30 s
 * (https://developers.cloudflare.com/d1/platform/limits/). Its parked copy is stored only
 * after that, so the unguarded first try and the storing never race (src/intake/store.ts).
 */
export const AFTER_ABANDONED_TRY_SECONDS = 45;

/**
 * Puts an event D1 could not take on the storing queue (its body in a Durable Object first
 * if it does not fit a message), to be stored after `delaySeconds`. True once it is
 * durably there: the queue confirmed the send. False if it could not be kept: the caller
 * answers 503.
 */
export async function park(env: Env, event: Omit<NewEvent, "body">, bytes: ArrayBuffer, delaySeconds = 0): Promise<boolean> {
  const message: ParkedEvent = { id: event.id, type: event.type, bodyHash: event.bodyHash, idempotencyKey: event.idempotencyKey, receivedAt: event.receivedAt };
  const keeper = bytes.byteLength <= MAX_INLINE_BYTES ? undefined : env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(event.id));
  try {
    await within(
      (async () => {
        if (keeper) await keeper.keep(bytes);
        else message.body64 = bytesToBase64(new Uint8Array(bytes));
        await env.STORING.send(message, { delaySeconds });
      })(),
      PARK_WITHIN_MS,
      "parking the event",
    );
    log.warn("event parked: D1 could not take it, the storing queue has it", { eventId: event.id, bytes: bytes.byteLength });
    return true;
  } catch (err) {
    log.error("event refused: neither D1 nor the storing queue could take it", { eventId: event.id, error: errorText(err) });
    // The portal sends it again under a new id, so these bytes would belong to nothing. A
    // send that timed out may still arrive: its event was answered 503, and storing it then
    // finds no body, which is right. If this fails too, the keeper's alarm drops them.
    if (keeper) await within(keeper.forget(), FORGET_WITHIN_MS, "forgetting the parked body").catch(() => {});
    return false;
  }
}

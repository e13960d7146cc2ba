import type { Env } from "../core/env";
import { Refused } from "../core/errors";
import { errorText, log } from "../core/log";
import { BATCH_RETRY, withD1Retry } from "../db/d1-retry";
import type { ParkedEvent } from "../db/records";
import { enqueueCommitted, messageFor } from "../queue/enqueue";
import { base64ToBytes } from "../security/encoding";
import { isParkedEvent } from "./parked";
import { recordEvent } from "./store";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Seconds before a parked event that D1 still could not take is tried again: 5, 10, 20, … 300. */
export const storeBackoffSeconds = (stalls: number) => Math.min(5 * 2 ** Math.max(0, stalls - 1), 300);

/** What became of one parked event. */
export type StoreOutcome = "stored" | "duplicate" | "refused" | "gone";

/**
 * The storing queue's consumer: each event the intake parked during a D1 outage is stored
 * as intake would have stored it (the same statements, the same dedupe, the same id; a
 * body stored meanwhile makes it a duplicate with no deliveries), then its deliveries are
 * queued. Safe to run twice for one event (`again` in recordEvent).
 *
 * An event D1 still cannot take goes back to the queue as a new message with a growing
 * delay, never with `retry()`: D1's trouble must not spend the message's retries, after
 * which Queues would move it to the storing dead-letter queue
 * (src/intake/store-dead-letters.ts). `retry()` is only the fallback when the queue
 * refuses that send.
 */
export async function storeParked(batch: MessageBatch<ParkedEvent>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      // Not an event: retried alone (never the whole batch) until the dead-letter queue logs it.
      if (!isParkedEvent(message.body)) {
        log.error("storing queue message is not a parked event", { messageId: message.id, attempts: message.attempts });
        message.retry();
        return;
      }
      try {
        await storeOne(env, message.body);
        message.ack();
      } catch (err) {
        const stalls = Math.max((message.body.stalls ?? 0) + 1, message.attempts);
        const delaySeconds = storeBackoffSeconds(stalls);
        log.warn("parked event not stored yet", { eventId: message.body.id, stalls, delaySeconds, error: errorText(err) });
        try {
          await env.STORING.send({ ...message.body, stalls }, { delaySeconds });
          message.ack();
        } catch {
          message.retry({ delaySeconds });
        }
      }
    }),
  );
}

/** Stores one parked event and queues its deliveries; throws if D1 (or its body's keeper) cannot answer. */
export async function storeOne(env: Env, parked: ParkedEvent): Promise<StoreOutcome> {
  const keeper = parked.body64 !== undefined ? undefined : env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(parked.id));
  const bytes = parked.body64 !== undefined ? base64ToBytes(parked.body64) : await keeper!.read();
  // Its body is forgotten only after it was stored: a copy of a message already handled.
  if (!bytes) return "gone";
  const body = utf8.decode(bytes);
  let outcome: StoreOutcome;
  try {
    const event = { id: parked.id, type: parked.type, body, bodyHash: parked.bodyHash, idempotencyKey: parked.idempotencyKey, receivedAt: parked.receivedAt };
    const recorded = await withD1Retry(() => recordEvent(env.DB, event, JSON.parse(body), { again: true, storedLateAt: Date.now() }), BATCH_RETRY);
    if (recorded.duplicate) outcome = "duplicate";
    else {
      outcome = "stored";
      await enqueueCommitted(
        env.DELIVERIES,
        recorded.deliveries.map((d) => messageFor({ ...d, generation: 0 })),
        `parked event ${parked.id}`,
      );
    }
  } catch (err) {
    // The Idempotency-Key came first with another body: intake would have answered 422
    // and stored nothing, so nothing is stored now either (the log says so).
    if (!(err instanceof Refused)) throw err;
    outcome = "refused";
  }
  log.info("parked event handled", { eventId: parked.id, outcome });
  if (keeper) await keeper.forget().catch((err) => log.warn("could not forget a parked body", { eventId: parked.id, error: errorText(err) }));
  return outcome;
}

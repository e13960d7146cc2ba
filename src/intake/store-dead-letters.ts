import type { Env } from "../core/env";
import { errorText, log } from "../core/log";
import type { ParkedEvent } from "../db/records";
import { isParkedEvent } from "./parked";
import { storeOne } from "./store-parked";

/*
 * The storing queue's dead-letter queue. A parked event exists nowhere but in its message
 * (and its body's keeper): D1 never had it. So unlike a delivery's dead letter, which D1
 * still holds, a parked event that crashed the storing consumer 100 times must not be
 * dropped: it is tried again every hour, and kept in this queue (as a new message each
 * time, so Queues' retention never runs out) until it is stored, with an error logged
 * each time, for an operator to see and fix the cause.
 */

/** Seconds between two tries of a dead-lettered parked event: each one logs an error. */
export const DEAD_LETTER_RETRY_SECONDS = 3600;

/** What became of one dead-lettered message. */
export type DeadLetterOutcome = "stored" | "kept" | "not an event";

/** The storing dead-letter queue's consumer; never throws (its retries are its last resort). */
export async function keepDeadLetteredEvents(batch: MessageBatch<ParkedEvent>, env: Env): Promise<void> {
  await Promise.all(batch.messages.map((message) => keepOne(message, env)));
}

async function keepOne(message: Message<ParkedEvent>, env: Env): Promise<DeadLetterOutcome> {
  if (!isParkedEvent(message.body)) {
    // Nothing the portal sent can be rebuilt from it: logged (its fields' names only, never a payload) and dropped.
    const fields = typeof message.body === "object" && message.body !== null ? Object.keys(message.body).join(",") : typeof message.body;
    log.error("storing dead letter dropped: not a parked event", { messageId: message.id, fields });
    message.ack();
    return "not an event";
  }
  const parked = message.body;
  const times = (parked.deadLettered ?? 0) + 1;
  try {
    const outcome = await storeOne(env, parked);
    log.error("dead-lettered parked event stored at last", { eventId: parked.id, times, outcome });
    message.ack();
    return "stored";
  } catch (err) {
    log.error("parked event NOT STORED: the storing consumer failed on it too often; kept, tried again in an hour", {
      eventId: parked.id,
      times,
      error: errorText(err),
    });
    try {
      await env.STORING_DEAD_LETTERS.send({ ...parked, deadLettered: times }, { delaySeconds: DEAD_LETTER_RETRY_SECONDS });
      message.ack();
    } catch (sendErr) {
      // Queues keeps it for 100 more tries; the error above says so every time.
      log.error("could not keep a dead-lettered parked event in its queue; retrying it", { eventId: parked.id, error: errorText(sendErr) });
      message.retry({ delaySeconds: DEAD_LETTER_RETRY_SECONDS });
    }
    return "kept";
  }
}

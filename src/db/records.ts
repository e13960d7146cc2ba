import type { RunGuard } from "./current-run";
import type { AttemptRecord, DeliveryStatus } from "./delivery-state";
import type { channels } from "./schema";

/*
 * The records that several folders pass between them: the delivery pipeline's (a queue
 * message, what a consumer batch reads, what it decides, what it writes) and the
 * dispatcher's own events. Types only, below every folder that uses them, so the
 * pipeline's steps (src/delivery, src/flow, src/operational) depend on them, not on each
 * other.
 */

type ChannelRow = typeof channels.$inferSelect;

/**
 * A queue message names one delivery by its key (channel and id), and the generation it
 * was sent for; everything else is read from D1 when it is handled.
 */
export interface DeliveryMessage {
  deliveryId: string;
  /**
   * Absent in messages sent before deliveries were keyed by channel: their ids were
   * rewritten since, so they find nothing and the sweeper sends their deliveries again.
   */
  channelId?: string;
  /** Absent in messages sent before generations existed: read as 0. */
  generation?: number;
  /** Times in a row D1 could not read or record this message's batch (src/delivery/stall.ts). */
  stalls?: number;
  /**
   * When its channel's rate limit lets it start (unix ms), handed out once by the channel's
   * sequencer (src/flow/sequencer.ts): the message is sent with the delay to it, and the
   * consumer starts it then without asking again.
   */
  startAt?: number;
}

/** What the consumer reads of a delivery, with its event's body (null if the event was purged). */
export interface BatchDelivery {
  id: string;
  eventId: string;
  eventType: string;
  channelId: string;
  status: DeliveryStatus;
  attemptCount: number;
  retryBase: number;
  generation: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  body: string | null;
  /** Whether the channel still subscribes to the delivery's event type. */
  subscribed: boolean;
  /** Its lane on an ordered channel, and that lane's head as the batch read it (src/flow/lanes.ts); null if none. */
  lane: string | null;
  laneHead: string | null;
}

/** What the consumer reads of a channel; the secret and header values still encrypted. */
export interface BatchChannel {
  id: string;
  name: string;
  url: string;
  method: string;
  timeoutSeconds: number;
  enabled: boolean;
  disabledReason: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  /** Start of the channel's current run of failed attempts, if it is in one. */
  failingSince: number | null;
  /** Its custom headers, in the order they were added. */
  headers: { name: string; value: string }[];
  paused: boolean;
  rateLimit: number | null;
  format: ChannelRow["format"];
  /** Integrations: the JSONata expression that writes the body, and the auth (secret encrypted), or null. */
  transform: string | null;
  auth: string | null;
}

export interface BatchData {
  deliveries: Map<string, BatchDelivery>;
  channels: Map<string, BatchChannel>;
}

export interface DeliveryChange {
  channelId: string;
  id: string;
  /** The generation the decision was made for: the change holds only while it is current. */
  generation: number;
  status: DeliveryStatus;
  /** The attempt this change records, if it records one. */
  attempt?: AttemptRecord;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

/** What the consumer decided for one message. */
export type Plan = { ack: true } | { ack: false; delaySeconds: number };

export interface Handled {
  plan: Plan;
  change?: DeliveryChange;
  /** What the attempt says of the channel; `quiet`: an operational event's delivery, whose outcome raises nothing. */
  channel?: { id: string; ok: boolean; gone?: string; quiet: boolean };
  /** Raised when the delivery ends failed (never for an operational event's own delivery). */
  raise?: OperationalEvent;
  /** Waits behind its lane's head: no message until woken (src/flow/lanes.ts). */
  park?: Park;
  /** Comes back to the queue as a new message (a rate-limit start later than this batch waits for). */
  resend?: DeliveryMessage;
}

/** A delivery waiting in its lane behind `behind` (the lane's head as the batch read it). */
export type Park = { channelId: string; id: string; generation: number; lane: string; behind: string };

/** A message that may send: its delivery and channel, and when its rate limit lets it start (unix ms). */
export type Sendable = { delivery: BatchDelivery; channel: BatchChannel; startAt?: number };
export type Triaged = Handled | Sendable;

/**
 * A dispatcher's own event, as its raiser hands it to the write (src/operational/events.ts).
 */
export interface OperationalEvent {
  id: string;
  /** One of the operational types of src/portal/catalog.ts. */
  type: "Dispatcher.DeliveryFailed" | "Dispatcher.WebhookDisabled";
  receivedAt: number;
  /** The envelope, `{"Event", "Message", "Timestamp"}`, as it will be sent. */
  body: string;
  /** Raised only if this channel is disabled as of this write (two batches may both see a 410). */
  disabledChannel?: string;
  /** Raised only if this delivery's run is still the one judged (a late result raises nothing). */
  ifCurrent?: RunGuard;
}

/**
 * A message of the storing queue: an event the intake accepted while D1 could not take
 * it, with everything intake would have stored. Its body travels as base64 of its UTF-8
 * bytes: ASCII, so its size is known whatever serializes it (a v8-serialized string of
 * non-Latin-1 text takes two bytes a character; the local queue gave an ArrayBuffer back
 * as something else). A body too large for a message is kept by a `ParkedBodies`
 * Durable Object named by the event's id instead (src/intake/parked-bodies.ts).
 */
export interface ParkedEvent {
  id: string;
  type: string;
  bodyHash: string;
  idempotencyKey: string | null;
  /** When intake accepted it, ms: the event's time, its dedupe window's end. */
  receivedAt: number;
  /** Base64 of the body's UTF-8 bytes; absent when they are kept by the Durable Object. */
  body64?: string;
  /** How many times the storing consumer could not store it yet (for its backoff). */
  stalls?: number;
  /** How many times it came through the storing dead-letter queue without being stored. */
  deadLettered?: number;
}

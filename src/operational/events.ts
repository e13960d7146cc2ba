import { sqlDeliveryId, timeOrderedId } from "../db/ids";
import type { DeliveryMessage } from "../delivery/message";
import type { OperationalEventType } from "../events/catalog";

/**
 * The dispatcher's own events: `Dispatcher.DeliveryFailed` when a delivery ends `failed`,
 * `Dispatcher.WebhookDisabled` when the dispatcher disables a channel. They are stored
 * and delivered like the portal's events (a row in `events`, one delivery per enabled
 * channel subscribed to the type), written by statements that join the writer's own D1
 * batch, so raising one costs no round trip of its own.
 */
export interface OperationalEvent {
  id: string;
  type: OperationalEventType;
  receivedAt: number;
  /** The envelope, `{"Event", "Message", "Timestamp"}`, as it will be sent. */
  body: string;
  /** Raised only if this channel is disabled as of this write (two batches may both see a 410). */
  disabledChannel?: string;
}

function envelope(type: OperationalEventType, message: object, now: number): OperationalEvent {
  return { id: timeOrderedId(now), type, receivedAt: now, body: JSON.stringify({ Event: type, Message: message, Timestamp: new Date(now).toISOString() }) };
}

export function deliveryFailed(
  failed: {
    deliveryId: string;
    channelId: string;
    channelName: string | null;
    eventId: string;
    eventType: string;
    attempts: number;
    lastStatusCode: number | null;
    lastError: string | null;
  },
  now: number,
): OperationalEvent {
  return envelope(
    "Dispatcher.DeliveryFailed",
    {
      DeliveryID: failed.deliveryId,
      WebhookID: failed.channelId,
      WebhookName: failed.channelName,
      EventID: failed.eventId,
      EventType: failed.eventType,
      Attempts: failed.attempts,
      LastStatusCode: failed.lastStatusCode,
      LastError: failed.lastError,
    },
    now,
  );
}

export function webhookDisabled(channel: { id: string; name: string }, reason: string, now: number): OperationalEvent {
  return { ...envelope("Dispatcher.WebhookDisabled", { WebhookID: channel.id, WebhookName: channel.name, Reason: reason }, now), disabledChannel: channel.id };
}

/**
 * The two statements that store the events and their pending deliveries; the second
 * returns the new deliveries, to be queued once the batch is written. Add them to the
 * writer's batch after its own changes (a disabling update comes first).
 */
export function raiseStatements(d1: D1Database, events: OperationalEvent[], now: number): [D1PreparedStatement, D1PreparedStatement] {
  const rows = JSON.stringify(events);
  return [
    d1
      .prepare(
        `insert into events (id, type, body, received_at)
         select e.value->>'id', e.value->>'type', e.value->>'body', e.value->>'receivedAt'
         from json_each(?1) as e
         where e.value->>'disabledChannel' is null
            or exists (select 1 from channels where id = e.value->>'disabledChannel' and enabled = 0 and updated_at = ?2)`,
      )
      .bind(rows, now),
    d1
      .prepare(
        `insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at)
         select ${sqlDeliveryId("e.value->>'id'")}, e.value->>'id', ce.channel_id, ce.event_type, 'pending', ?2, e.value->>'receivedAt', ?2
         from json_each(?1) as e
         join channel_events as ce on ce.event_type = e.value->>'type'
         join channels as c on c.id = ce.channel_id and c.enabled = 1
         where exists (select 1 from events where type = e.value->>'type' and id = e.value->>'id')
         returning id as deliveryId, channel_id as channelId, generation`,
      )
      .bind(rows, now),
  ];
}

/** The queue messages for the deliveries the second statement returned. */
export const raisedMessages = (result: D1Result | undefined): DeliveryMessage[] => (result?.results ?? []) as DeliveryMessage[];

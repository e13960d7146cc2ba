import { sqlIsCurrent } from "../db/current-run";
import { sqlDeliveryId, timeOrderedId } from "../db/ids";
import { sqlLane } from "../db/lanes";
import type { DeliveryMessage, OperationalEvent } from "../db/records";
import type { OperationalEventType } from "../portal/catalog";
import { judgeByFilters, learnFilters } from "../routing/filter-cache";

/**
 * The dispatcher's own events: `Dispatcher.DeliveryFailed` when a delivery ends `failed`,
 * `Dispatcher.WebhookDisabled` when the dispatcher disables a channel. They are stored
 * and delivered like the portal's events (a row in `events`, one delivery per enabled
 * channel subscribed to the type), written by statements that join the writer's own D1
 * batch, so raising one costs no round trip of its own.
 */
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
    /** The delivery's lane on an ordered channel (src/flow/lanes.ts): the next in it starts now. */
    lane?: string | null;
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
      ...(failed.lane != null ? { Lane: failed.lane } : {}),
    },
    now,
  );
}

export function webhookDisabled(channel: { id: string; name: string }, reason: string, now: number): OperationalEvent {
  return { ...envelope("Dispatcher.WebhookDisabled", { WebhookID: channel.id, WebhookName: channel.name, Reason: reason }, now), disabledChannel: channel.id };
}

/**
 * The three statements that store the events and their pending deliveries; the last
 * returns the new deliveries, to be queued once the batch is written (`raisedMessages`).
 * Add them to the writer's batch after a disabling update and before the delivery changes
 * that `ifCurrent` guards (src/db/current-run.ts).
 *
 * Channels' filters apply as at intake (contract: Routing): each event is judged here by
 * this isolate's filter cache, and a filtered channel gets a delivery only if its filter
 * version is the one judged. The second statement reads the filtered channels the cache
 * did not know; `raisedMessages` judges those and inserts their deliveries, the only
 * case that costs a round trip of its own.
 */
export function raiseStatements(d1: D1Database, events: OperationalEvent[], now: number): [D1PreparedStatement, D1PreparedStatement, D1PreparedStatement] {
  const rows = JSON.stringify(events.map((e) => ({ ...e, ...judgeByFilters(JSON.parse(e.body), e.type) })));
  return [
    d1
      .prepare(
        `insert into events (id, type, body, received_at)
         select e.value->>'id', e.value->>'type', e.value->>'body', e.value->>'receivedAt'
         from json_each(?1) as e
         where (e.value->>'disabledChannel' is null
                or exists (select 1 from channels where id = e.value->>'disabledChannel' and enabled = 0 and updated_at = ?2))
           and (e.value->>'ifCurrent' is null or ${sqlIsCurrent("e.value->'ifCurrent'")})`,
      )
      .bind(rows, now),
    d1
      .prepare(
        `select e.value->>'id' as eventId, e.value->>'type' as type, e.value->>'body' as body, e.value->>'receivedAt' as receivedAt,
                c.id, c.filter, c.filter_version as version
         from json_each(?1) as e
         join channel_events as ce on ce.event_type = e.value->>'type'
         join channels as c on c.id = ce.channel_id and c.enabled = 1 and c.filter is not null
         where c.id || ':' || c.filter_version not in (select value from json_each(e.value->'known'))
           and exists (select 1 from events where type = e.value->>'type' and id = e.value->>'id')`,
      )
      .bind(rows),
    d1
      .prepare(
        `insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at, lane)
         select ${sqlDeliveryId("e.value->>'id'")}, e.value->>'id', ce.channel_id, ce.event_type, 'pending', ?2, e.value->>'receivedAt', ?2,
                ${sqlLane("c", "e.value->>'body'")}
         from json_each(?1) as e
         join channel_events as ce on ce.event_type = e.value->>'type'
         join channels as c on c.id = ce.channel_id and c.enabled = 1
         where exists (select 1 from events where type = e.value->>'type' and id = e.value->>'id')
           and (c.filter is null or c.id || ':' || c.filter_version in (select value from json_each(e.value->'matched')))
         returning id as deliveryId, channel_id as channelId, generation`,
      )
      .bind(rows, now),
  ];
}

type Unjudged = { eventId: string; type: string; body: string; receivedAt: number; id: string; filter: string; version: number };

/**
 * The queue messages for the deliveries the batch's raise statements created. `results`:
 * the batch's results up to and including the last raise statement. When the filter
 * cache did not know a subscribed channel's filter, judges it now and inserts those
 * deliveries (one more round trip, only then).
 */
export async function raisedMessages(d1: D1Database, results: D1Result[], now: number): Promise<DeliveryMessage[]> {
  const messages = (results.at(-1)?.results ?? []) as DeliveryMessage[];
  const unjudged = (results.at(-2)?.results ?? []) as Unjudged[];
  if (!unjudged.length) return messages;
  const byEvent = new Map<string, Unjudged[]>();
  for (const row of unjudged) byEvent.set(row.eventId, [...(byEvent.get(row.eventId) ?? []), row]);
  const passed: { eventId: string; type: string; receivedAt: number; channelId: string; version: number }[] = [];
  for (const [eventId, rows] of byEvent) {
    const { type, body, receivedAt } = rows[0]!;
    for (const key of learnFilters(rows, JSON.parse(body), type)) {
      // The cache's keys are "<channel id>:<filter version>".
      const at = key.lastIndexOf(":");
      passed.push({ eventId, type, receivedAt, channelId: key.slice(0, at), version: Number(key.slice(at + 1)) });
    }
  }
  if (!passed.length) return messages;
  const late = await d1
    .prepare(
      `insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at, lane)
       select ${sqlDeliveryId("p.value->>'eventId'")}, p.value->>'eventId', c.id, ce.event_type, 'pending', ?2, p.value->>'receivedAt', ?2,
              ${sqlLane("c", "(select body from events where type = p.value->>'type' and id = p.value->>'eventId')")}
       from json_each(?1) as p
       join channels as c on c.id = p.value->>'channelId' and c.filter_version = p.value->>'version' and c.enabled = 1
       join channel_events as ce on ce.channel_id = c.id and ce.event_type = p.value->>'type'
       returning id as deliveryId, channel_id as channelId, generation`,
    )
    .bind(JSON.stringify(passed), now)
    .all<DeliveryMessage>();
  return [...messages, ...late.results];
}

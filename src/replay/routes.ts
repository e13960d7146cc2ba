import { createRoute, z } from "@hono/zod-openapi";
import { getChannel } from "../channels/queries";
import { ApiError, NotFound } from "../core/errors";
import { admin, EventId, errorResponses, IdParam, json, jsonBody, router } from "../core/openapi";
import { decodeCursor, encodeCursor } from "../core/paging";
import { database } from "../db/client";
import { storedEvent } from "../db/newest-events";
import { timestamp } from "../http/rfc3339";
import { eventType } from "../portal/catalog";
import { replay } from "./replay";

const Replay = z
  .strictObject({
    Since: timestamp.openapi({ description: "Events received at or after this time" }),
    Until: timestamp.optional().openapi({ description: "Events received before this time (default now)" }),
    EventType: eventType.optional().openapi({ description: "Only events of this type (one the webhook subscribes to)" }),
    EventID: EventId.optional().openapi({ description: "Only this event (the event page's “Send to…”); one not stored is a 404" }),
    DryRun: z.boolean().optional().openapi({ description: "Only count what a replay would create" }),
    Cursor: z
      .string()
      .refine((cursor) => decodeCursor("events", cursor) !== undefined, "is not a cursor of a replay (post the Cursor a replay answered)")
      .optional()
      .openapi({ description: "Go on from where the previous request of this replay stopped (its answer's Cursor)" }),
  })
  .openapi("Replay");

const Progress = { Cursor: z.string().optional().openapi({ description: "Present when the window holds more: post the same body with it to go on" }) };
const Created = z.object({ Created: z.int(), ...Progress }).openapi("ReplayCreated");
const WouldCreate = z.object({ WouldCreate: z.int(), ...Progress }).openapi("ReplayWouldCreate");

const replayRoute = createRoute({
  method: "post",
  path: "/{id}/replay",
  tags: ["Webhooks"],
  security: admin,
  summary:
    "Create deliveries to this webhook for the stored events of the window it would get now (subscribed type, its filter) and has no delivery for; with DryRun, only count them",
  request: { params: IdParam, body: jsonBody(Replay) },
  responses: {
    202: json(Created, "Deliveries created and queued (held if the webhook is paused), in the order their events were received"),
    200: json(WouldCreate, "How many a replay would create"),
    409: json(z.object({ errors: z.array(z.string()) }), "The webhook is disabled, or not subscribed to EventType"),
    ...errorResponses,
  },
});

export const replayRoutes = router().openapi(replayRoute, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const since = Date.parse(body.Since);
  const until = body.Until === undefined ? Date.now() : Date.parse(body.Until);
  if (since >= until) throw ApiError.invalid("Since", "must be before Until");
  const channel = await getChannel(database(c.env.DB), id);
  if (!channel.row.enabled) throw new ApiError(409, ["Enabled: the webhook is disabled; enable it first"]);
  if (body.EventType && !channel.events.includes(body.EventType)) throw new ApiError(409, [`EventType: the webhook does not subscribe to ${body.EventType}`]);
  const eventId = body.EventID?.toLowerCase();
  // An event that is not stored is named, not "0 created" (one read, only when EventID is given).
  if (eventId !== undefined && (await storedEvent(database(c.env.DB), eventId).limit(1)).length === 0) throw new NotFound("Event");
  const result = await replay(
    database(c.env.DB),
    c.env.DELIVERIES,
    { id, types: body.EventType ? [body.EventType] : channel.events, filter: channel.row.filter, filterVersion: channel.row.filterVersion },
    { since, until, eventId, after: decodeCursor("events", body.Cursor)?.[0] },
    body.DryRun === true,
  );
  const cursor = result.next ? { Cursor: encodeCursor("events", [result.next]) } : {};
  if (body.DryRun) return c.json({ WouldCreate: result.count, ...cursor }, 200);
  return c.json({ Created: result.count, ...cursor }, 202);
});

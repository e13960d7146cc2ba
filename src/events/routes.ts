import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../core/errors";
import { admin, errorResponses, IdParam, json, Pagination, router, sinceBeforeUntil } from "../core/openapi";
import { cursorParam, decodeCursor, encodeCursor, nextLink, pageOf } from "../core/paging";
import { database, iso } from "../db/client";
import { listEvents } from "../db/newest-events";
import { Delivery } from "../delivery-api/schemas";
import { deliveryView } from "../delivery-api/views";
import { timestamp } from "../http/rfc3339";
import { MAX_QUERY_CHARS, searchWindow } from "../http/search-window";
import { eventType, eventTypes } from "../portal/catalog";
import { findEvent } from "./queries";
import { searchEvents } from "./search";

const tags = ["Events"];
const ms = (time: string | undefined) => (time === undefined ? undefined : Date.parse(time));

const Event = z
  .object({
    ID: z.string(),
    Type: z.string(),
    ReceivedAt: z.string(),
    Payload: z.unknown().openapi({ description: "The JSON exactly as the portal sent it" }),
  })
  .openapi("Event");

const list = createRoute({
  method: "get",
  path: "/events",
  tags,
  security: admin,
  summary:
    "Events, newest first; with q, those whose payload contains the text (any case), received within since/until (default the last 24 h, at most 31 days); a Link header (RFC 8288) names the next page while more follow",
  request: {
    query: sinceBeforeUntil(
      Pagination.extend({
        type: eventType.optional().openapi({ param: { in: "query" } }),
        q: z
          .string()
          .trim()
          .min(1)
          .max(MAX_QUERY_CHARS)
          .optional()
          .openapi({ param: { in: "query" }, description: "Text the payload contains, in any case (an email, a name, an ID), or the event's ID" }),
        since: timestamp.optional().openapi({ param: { in: "query" }, description: "Received at or after (with q, default 24 h before until)" }),
        until: timestamp.optional().openapi({ param: { in: "query" }, description: "Received before (default now)" }),
        cursor: cursorParam("events"),
      }),
      "since",
      "until",
    ),
  },
  responses: { 200: json(z.array(Event), "Events"), ...errorResponses },
});

const read = createRoute({
  method: "get",
  path: "/events/{id}",
  tags,
  security: admin,
  summary: "One event with its deliveries",
  request: { params: IdParam },
  responses: { 200: json(Event.extend({ Deliveries: z.array(Delivery) }), "The event"), ...errorResponses },
});

const types = createRoute({
  method: "get",
  path: "/event-types",
  tags,
  security: admin,
  summary: "The event types a webhook can subscribe to",
  responses: { 200: json(z.array(z.string()), "The 14 portal event types, then the dispatcher's 2 operational ones"), ...errorResponses },
});

type EventRow = { id: string; type: string; receivedAt: number; body: string };

/**
 * An event as JSON with its stored body spliced in as `Payload`, so an admin sees the
 * bytes the portal sent (a parse and re-serialise could reformat numbers).
 */
function eventJson(row: EventRow, extra: object = {}): string {
  const head = JSON.stringify({ ID: row.id, Type: row.type, ReceivedAt: iso(row.receivedAt), ...extra });
  return `${head.slice(0, -1)},"Payload":${row.body}}`;
}

// Assembled text rather than c.json(), so the typed-response check is waived here; the
// route's schema still documents the shape.
const jsonResponse = (text: string, headers: Record<string, string> = {}) =>
  new Response(text, { headers: { "Content-Type": "application/json", ...headers } }) as never;

export const eventRoutes = router()
  .openapi(list, async (c) => {
    const { type, page, per_page, cursor, q, since, until } = c.req.valid("query");
    const [before] = decodeCursor("events", cursor) ?? [];
    const db = database(c.env.DB);
    // A search reads a bounded window; a plain list (or one only bounded in time) does not need one.
    const window = q !== undefined ? searchWindow(since, until) : { since: ms(since), until: ms(until) };
    const rows =
      q === undefined && since === undefined && until === undefined
        ? await listEvents(db, type, page, per_page, before, 1)
        : await searchEvents(db, q, window, type, before, (page - 1) * per_page, per_page + 1);
    const { items, last } = pageOf(rows, per_page);
    const link = last ? { Link: nextLink(c.req.url, encodeCursor("events", [last.id])) } : undefined;
    return jsonResponse(`[${items.map((row) => eventJson(row)).join(",")}]`, link);
  })
  .openapi(read, async (c) => {
    const found = await findEvent(database(c.env.DB), c.req.valid("param").id);
    if (!found) throw ApiError.notFound("Event");
    return jsonResponse(eventJson(found.event, { Deliveries: found.deliveries.map(deliveryView) }));
  })
  .openapi(types, (c) => c.json([...eventTypes], 200));

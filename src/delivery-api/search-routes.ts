import { createRoute, z } from "@hono/zod-openapi";
import { NotFound } from "../core/errors";
import { admin, errorResponses, json, jsonBody, Pagination, router, sinceBeforeUntil } from "../core/openapi";
import { cursorParam, decodeCursor, encodeCursor, nextLink, pageOf } from "../core/paging";
import { channelExists } from "../db/channel-names";
import { database } from "../db/client";
import { searchWindow } from "../http/search-window";
import { enqueueCommitted, messageFor } from "../queue/enqueue";
import { restartDeliveries } from "./queries";
import { Delivery, DeliveryFilters, RecoverAll, RequeuedCount, WouldRequeue } from "./schemas";
import { countDeliveries, recoverable, searchDeliveries } from "./search";
import { deliveryView } from "./views";

const tags = ["Deliveries"];
const ms = (time: string | undefined) => (time === undefined ? undefined : Date.parse(time));

const list = createRoute({
  method: "get",
  path: "/deliveries",
  tags,
  security: admin,
  summary: "Deliveries of every webhook, newest first, filtered; a Link header (RFC 8288) names the next page while more follow",
  request: { query: sinceBeforeUntil(Pagination.extend({ ...DeliveryFilters.shape, cursor: cursorParam("deliveries") }), "since", "until") },
  responses: { 200: json(z.array(Delivery), "Deliveries"), ...errorResponses },
});

const recoverAll = createRoute({
  method: "post",
  path: "/deliveries/recover",
  tags,
  security: admin,
  summary: "Send again the failed deliveries that match (of enabled webhooks still subscribed to their type); with DryRun, only count them",
  request: { body: jsonBody(RecoverAll) },
  responses: {
    202: json(RequeuedCount, "Deliveries queued again"),
    200: json(WouldRequeue, "How many a recover would queue again"),
    ...errorResponses,
  },
});

export const deliverySearchRoutes = router()
  .openapi(list, async (c) => {
    const { page, per_page, cursor, status, webhook_id, event_type, event_id, since, until, q } = c.req.valid("query");
    const [before] = decodeCursor("deliveries", cursor) ?? [];
    // A search by payload reads a bounded window: the last 24 h by default, at most 31 days.
    const window = q === undefined ? { since: ms(since), until: ms(until) } : searchWindow(since, until);
    const search = { status, webhookId: webhook_id, eventType: event_type, eventId: event_id, ...window, before, q };
    const { items, last } = pageOf(await searchDeliveries(database(c.env.DB), search, (page - 1) * per_page, per_page + 1), per_page);
    if (last) c.header("Link", nextLink(c.req.url, encodeCursor("deliveries", [last.id])));
    return c.json(items.map(deliveryView), 200);
  })
  .openapi(recoverAll, async (c) => {
    const body = c.req.valid("json");
    const db = database(c.env.DB);
    // Only a channel that exists can be recovered (as /webhooks/{id}/recover): one that does not is named, not "0 requeued".
    if (body.WebhookID !== undefined && !(await channelExists(db, body.WebhookID))) throw new NotFound("Webhook");
    const where = recoverable({ webhookId: body.WebhookID, eventType: body.EventType, since: ms(body.Since), until: ms(body.Until) });
    if (body.DryRun) return c.json({ WouldRequeue: await countDeliveries(db, where) }, 200);
    const restarted = await restartDeliveries(db, where, Date.now());
    await enqueueCommitted(c.env.DELIVERIES, restarted.map(messageFor), "recovered");
    return c.json({ Requeued: restarted.length }, 202);
  });

import { createRoute, z } from "@hono/zod-openapi";
import { type ChannelRecord, getChannel } from "../channels/queries";
import { ApiError, NotFound } from "../core/errors";
import { admin, Errors, errorResponses, IdParam, json, jsonBody, Pagination, router } from "../core/openapi";
import { cursorParam, decodeCursor, encodeCursor, nextLink, pageOf } from "../core/paging";
import { database } from "../db/client";
import { timestamp } from "../http/rfc3339";
import type { EventType } from "../portal/catalog";
import { enqueueCommitted, messageFor } from "../queue/enqueue";
import { deliveryByKey, failedSince, findDelivery, listChannelDeliveries, restartDeliveries } from "./queries";
import { Delivery, DeliveryWithAttempts, RequeuedCount, StatusFilter, WouldRequeue } from "./schemas";
import { countDeliveries } from "./search";
import { attemptView, deliveryView } from "./views";

const channelDeliveries = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries",
  tags: ["Deliveries"],
  security: admin,
  summary: "A webhook's deliveries, newest first; a Link header (RFC 8288) names the next page while more follow",
  request: {
    params: IdParam,
    query: Pagination.extend({
      status: StatusFilter,
      cursor: cursorParam("webhookDeliveries"),
    }),
  },
  responses: { 200: json(z.array(Delivery), "Deliveries"), ...errorResponses },
});

const recover = createRoute({
  method: "post",
  path: "/webhooks/{id}/recover",
  tags: ["Deliveries"],
  security: admin,
  summary: "Send again the webhook's failed deliveries created since a time; with DryRun, only count them",
  request: { params: IdParam, body: jsonBody(z.strictObject({ Since: timestamp, DryRun: z.boolean().optional() }).openapi("Recover")) },
  responses: {
    202: json(RequeuedCount, "Deliveries queued again"),
    200: json(WouldRequeue, "How many a recover would queue again"),
    ...errorResponses,
  },
});

const readDelivery = createRoute({
  method: "get",
  path: "/deliveries/{id}",
  tags: ["Deliveries"],
  security: admin,
  summary: "One delivery with its attempts",
  request: { params: IdParam },
  responses: { 200: json(DeliveryWithAttempts, "The delivery"), ...errorResponses },
});

const redeliver = createRoute({
  method: "post",
  path: "/deliveries/{id}/redeliver",
  tags: ["Deliveries"],
  security: admin,
  summary: "Send a delivery again now, with a fresh retry schedule",
  request: { params: IdParam },
  responses: {
    202: json(Delivery, "The delivery, queued again"),
    409: json(Errors, "The webhook is disabled or deleted, or no longer subscribed to the delivery's type"),
    ...errorResponses,
  },
});

function requireEnabled(channel: ChannelRecord) {
  if (!channel.row.enabled) throw new ApiError(409, ["Enabled: the webhook is disabled; enable it first"]);
}

/** A type the channel no longer subscribes to is never sent to it again, not even on request. */
function requireSubscribed(channel: ChannelRecord, eventType: string) {
  if (!channel.events.includes(eventType as EventType)) {
    throw new ApiError(409, [`EventType: the webhook is no longer subscribed to ${eventType}`]);
  }
}

export const deliveryRoutes = router()
  .openapi(channelDeliveries, async (c) => {
    const { id } = c.req.valid("param");
    const { status, page, per_page, cursor } = c.req.valid("query");
    const db = database(c.env.DB);
    await getChannel(db, id);
    const [before] = decodeCursor("webhookDeliveries", cursor) ?? [];
    const { items, last } = pageOf(await listChannelDeliveries(db, id, status, before, (page - 1) * per_page, per_page + 1), per_page);
    if (last) c.header("Link", nextLink(c.req.url, encodeCursor("webhookDeliveries", [last.id])));
    return c.json(items.map(deliveryView), 200);
  })
  .openapi(recover, async (c) => {
    const { id } = c.req.valid("param");
    const db = database(c.env.DB);
    const channel = await getChannel(db, id);
    requireEnabled(channel);
    const { Since, DryRun } = c.req.valid("json");
    const where = failedSince(id, Date.parse(Since), channel.events);
    if (DryRun) return c.json({ WouldRequeue: await countDeliveries(db, where) }, 200);
    const restarted = await restartDeliveries(db, where, Date.now());
    await enqueueCommitted(c.env.DELIVERIES, restarted.map(messageFor), "recovered");
    return c.json({ Requeued: restarted.length }, 202);
  })
  .openapi(readDelivery, async (c) => {
    const found = await findDelivery(database(c.env.DB), c.req.valid("param").id);
    if (!found) throw ApiError.notFound("Delivery");
    return c.json({ ...deliveryView(found), Attempts: found.attempts.map(attemptView) }, 200);
  })
  .openapi(redeliver, async (c) => {
    const db = database(c.env.DB);
    const found = await findDelivery(db, c.req.valid("param").id);
    if (!found) throw ApiError.notFound("Delivery");
    // Only a channel that is gone is the caller's conflict; any other failure (D1's
    // included) is the error handler's, like everywhere else.
    const channel = await getChannel(db, found.channelId).catch((err: unknown) => {
      throw err instanceof NotFound ? new ApiError(409, ["WebhookID: the webhook was deleted"]) : err;
    });
    requireEnabled(channel);
    requireSubscribed(channel, found.eventType);
    const restarted = await restartDeliveries(db, deliveryByKey(found), Date.now());
    await enqueueCommitted(c.env.DELIVERIES, restarted.map(messageFor), "redelivered");
    return c.json(deliveryView(restarted[0]!), 202);
  });

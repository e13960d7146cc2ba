import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../core/env";
import { config } from "../core/env";
import { ApiError } from "../core/errors";
import { admin, errorResponses, IdParam, json, jsonBody, Ok, Pagination, router } from "../core/openapi";
import { cursorParam, decodeCursor, encodeCursor, nextLink, pageOf } from "../core/paging";
import { database } from "../db/client";
import { urlWithPlaceholdersProblem } from "../integrations/url-fields";
import { enqueueCommitted } from "../queue/enqueue";
import { secretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";
import { getChannel, listChannels } from "./queries";
import { Channel, ChannelCreate, ChannelListItem, ChannelPatch } from "./schemas";
import { newSigningSecret } from "./secrets";
import { createChannel, deleteChannel, updateChannel } from "./store";
import { channelListView, channelView } from "./views";

const tags = ["Webhooks"];

/** The deployment's guard on the channel's URL (placeholders filled in) and its token endpoint. */
function checkUrl(input: { URL?: string; Auth?: { Type: string; TokenURL?: string } | null }, allowPrivate: boolean) {
  const problem = input.URL === undefined ? null : urlWithPlaceholdersProblem(input.URL, allowPrivate);
  if (problem) throw ApiError.invalid("URL", problem);
  const tokenProblem = input.Auth?.TokenURL === undefined ? null : targetUrlProblem(input.Auth.TokenURL, allowPrivate);
  if (tokenProblem) throw ApiError.invalid("Auth.TokenURL", tokenProblem);
}

const list = createRoute({
  method: "get",
  path: "/",
  tags,
  security: admin,
  summary: "List webhooks, oldest first; a Link header (RFC 8288) names the next page while more follow",
  request: { query: Pagination.extend({ cursor: cursorParam("webhooks") }) },
  responses: { 200: json(z.array(ChannelListItem), "Webhooks, oldest first, each with its newest delivery"), ...errorResponses },
});
const create = createRoute({
  method: "post",
  path: "/",
  tags,
  security: admin,
  summary: "Create a webhook",
  request: { body: jsonBody(ChannelCreate) },
  responses: { 201: json(Channel, "The new webhook"), ...errorResponses },
});
const read = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  security: admin,
  summary: "Read a webhook",
  request: { params: IdParam },
  responses: { 200: json(Channel, "The webhook"), ...errorResponses },
});
const update = <M extends "put" | "patch">(method: M) =>
  createRoute({
    method,
    path: "/{id}",
    tags,
    security: admin,
    summary: "Change the fields given; others keep their value",
    request: { params: IdParam, body: jsonBody(ChannelPatch) },
    responses: { 200: json(Channel, "The changed webhook"), ...errorResponses },
  });
const remove = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  security: admin,
  summary: "Delete a webhook; its waiting deliveries are cancelled",
  request: { params: IdParam },
  responses: { 200: json(Ok, "Deleted"), ...errorResponses },
});
const updateHandler: RouteHandler<ReturnType<typeof update<"put" | "patch">>, AppEnv> = async (c) => {
  const patch = c.req.valid("json");
  checkUrl(patch, config(c.env).allowPrivateTargets);
  const box = await secretBox(c.env);
  const record = await updateChannel(database(c.env.DB), box, c.req.valid("param").id, patch);
  // Resumed: what was held is sent now.
  await enqueueCommitted(c.env.DELIVERIES, record.released, "released on resume");
  return c.json(await channelView(record, box), 200);
};

export const channelRoutes = router()
  .openapi(list, async (c) => {
    const { page, per_page, cursor } = c.req.valid("query");
    const box = await secretBox(c.env);
    const rows = await listChannels(database(c.env.DB), decodeCursor("webhooks", cursor), (page - 1) * per_page, per_page + 1);
    const { items, last } = pageOf(rows, per_page);
    if (last) c.header("Link", nextLink(c.req.url, encodeCursor("webhooks", [last.row.createdAt, last.row.id])));
    return c.json(await Promise.all(items.map((r) => channelListView(r, box))), 200);
  })
  .openapi(create, async (c) => {
    const input = c.req.valid("json");
    checkUrl(input, config(c.env).allowPrivateTargets);
    const box = await secretBox(c.env);
    const record = await createChannel(database(c.env.DB), box, input, newSigningSecret());
    return c.json(await channelView(record, box), 201);
  })
  .openapi(read, async (c) => {
    const box = await secretBox(c.env);
    const record = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await channelView(record, box), 200);
  })
  // PUT and PATCH alike change only the fields given, as the portal's API does.
  .openapi(update("put"), updateHandler)
  .openapi(update("patch"), updateHandler)
  .openapi(remove, async (c) => {
    await deleteChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json({ status: "ok" as const }, 200);
  });

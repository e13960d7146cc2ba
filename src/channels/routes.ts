import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../core/env";
import { config } from "../core/env";
import { ApiError } from "../core/errors";
import { admin, errorResponses, IdParam, json, jsonBody, Ok, Pagination, router } from "../core/openapi";
import { cursorParam, decodeCursor, encodeCursor, nextLink, pageOf } from "../core/paging";
import { database, iso } from "../db/client";
import { enqueueCommitted } from "../delivery/message";
import { previousSecretLive } from "../delivery/sign";
import { urlWithPlaceholdersProblem } from "../integrations/url-fields";
import { eventType } from "../portal/catalog";
import { secretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";
import { addHeader, deleteHeader, updateHeader } from "./headers-store";
import {
  Channel,
  ChannelCreate,
  ChannelListItem,
  ChannelPatch,
  ConnectionTest,
  Header,
  HeaderInput,
  HeaderPatch,
  MAX_HEADERS,
  Secret,
  TestEventResult,
} from "./schemas";
import { newSigningSecret, rotateSecret } from "./secrets";
import { createChannel, deleteChannel, getChannel, listChannels, updateChannel } from "./store";
import { testConnection } from "./test-connection";
import { sendTestEvent } from "./test-event";
import { channelListView, channelView, headerView } from "./views";

const tags = ["Webhooks"];
const HeaderParams = IdParam.extend({ header_id: z.string().openapi({ param: { in: "path" } }) });

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
const listHeaders = createRoute({
  method: "get",
  path: "/{id}/headers",
  tags,
  security: admin,
  summary: "List a webhook's custom headers",
  request: { params: IdParam },
  responses: { 200: json(z.array(Header), "Headers"), ...errorResponses },
});
const createHeader = createRoute({
  method: "post",
  path: "/{id}/headers",
  tags,
  security: admin,
  summary: "Add a custom header",
  request: { params: IdParam, body: jsonBody(HeaderInput) },
  responses: { 201: json(Header, "The new header"), ...errorResponses },
});
const readHeader = createRoute({
  method: "get",
  path: "/{id}/headers/{header_id}",
  tags,
  security: admin,
  summary: "Read a custom header",
  request: { params: HeaderParams },
  responses: { 200: json(Header, "The header"), ...errorResponses },
});
const putHeader = createRoute({
  method: "put",
  path: "/{id}/headers/{header_id}",
  tags,
  security: admin,
  summary: "Change a custom header",
  request: { params: HeaderParams, body: jsonBody(HeaderPatch) },
  responses: { 200: json(Header, "The changed header"), ...errorResponses },
});
const removeHeader = createRoute({
  method: "delete",
  path: "/{id}/headers/{header_id}",
  tags,
  security: admin,
  summary: "Delete a custom header",
  request: { params: HeaderParams },
  responses: { 200: json(Ok, "Deleted"), ...errorResponses },
});
const test = createRoute({
  method: "post",
  path: "/{id}/test",
  tags,
  security: admin,
  summary: "Test Connection: a HEAD to the URL, without the custom headers, within the Timeout",
  request: { params: IdParam },
  responses: { 200: json(ConnectionTest, "What the target answered"), ...errorResponses },
});
const testEvent = createRoute({
  method: "post",
  path: "/{id}/test-event",
  tags,
  security: admin,
  summary: "Send a type's sample payload through the webhook exactly as a delivery goes; nothing is recorded",
  request: { params: IdParam, body: jsonBody(z.strictObject({ Event: eventType }).openapi("TestEvent")) },
  responses: { 200: json(TestEventResult, "What the target answered"), ...errorResponses },
});
const readSecret = createRoute({
  method: "get",
  path: "/{id}/secret",
  tags,
  security: admin,
  summary: "The signing secret",
  request: { params: IdParam },
  responses: { 200: json(Secret, "The secret, and the previous one while it still signs"), ...errorResponses },
});
const rotate = createRoute({
  method: "post",
  path: "/{id}/secret/rotate",
  tags,
  security: admin,
  summary: "New signing secret; the old one keeps signing beside it for 24 hours",
  request: { params: IdParam },
  responses: { 200: json(Secret, "The new secret"), ...errorResponses },
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
  })
  .openapi(listHeaders, async (c) => {
    const box = await secretBox(c.env);
    const record = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await Promise.all(record.headers.map((h) => headerView(h, box))), 200);
  })
  .openapi(createHeader, async (c) => {
    const box = await secretBox(c.env);
    const db = database(c.env.DB);
    const record = await getChannel(db, c.req.valid("param").id);
    const row = await addHeader(db, box, record, c.req.valid("json"), MAX_HEADERS);
    return c.json(await headerView(row, box), 201);
  })
  .openapi(readHeader, async (c) => {
    const { id, header_id } = c.req.valid("param");
    const box = await secretBox(c.env);
    const header = (await getChannel(database(c.env.DB), id)).headers.find((h) => h.id === header_id);
    if (!header) throw ApiError.notFound("Header");
    return c.json(await headerView(header, box), 200);
  })
  .openapi(putHeader, async (c) => {
    const { id, header_id } = c.req.valid("param");
    const box = await secretBox(c.env);
    const db = database(c.env.DB);
    const row = await updateHeader(db, box, await getChannel(db, id), header_id, c.req.valid("json"));
    return c.json(await headerView(row, box), 200);
  })
  .openapi(removeHeader, async (c) => {
    const { id, header_id } = c.req.valid("param");
    await deleteHeader(database(c.env.DB), id, header_id);
    return c.json({ status: "ok" as const }, 200);
  })
  .openapi(test, async (c) => {
    const { row, events } = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await testConnection(row.url, row.timeoutSeconds, config(c.env).allowPrivateTargets, events), 200);
  })
  .openapi(testEvent, async (c) => {
    const box = await secretBox(c.env);
    const channel = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await sendTestEvent(channel, c.req.valid("json").Event, box, config(c.env)), 200);
  })
  .openapi(readSecret, async (c) => {
    const box = await secretBox(c.env);
    const { row } = await getChannel(database(c.env.DB), c.req.valid("param").id);
    const previousLive = previousSecretLive(row, Date.now());
    return c.json(
      {
        Secret: await box.decrypt(row.secret),
        PreviousSecret: previousLive ? await box.decrypt(row.previousSecret!) : null,
        PreviousSecretExpiresAt: previousLive ? iso(row.previousSecretExpiresAt) : null,
      },
      200,
    );
  })
  .openapi(rotate, async (c) => {
    const box = await secretBox(c.env);
    const db = database(c.env.DB);
    const secret = await rotateSecret(db, box, await getChannel(db, c.req.valid("param").id));
    return c.json({ Secret: secret }, 200);
  });

import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../core/errors";
import { admin, errorResponses, IdParam, json, jsonBody, Ok, router } from "../core/openapi";
import { database } from "../db/client";
import { secretBox } from "../security/secret-box";
import { addHeader, deleteHeader, updateHeader } from "./headers-store";
import { getChannel } from "./queries";
import { Header, HeaderInput, HeaderPatch, MAX_HEADERS } from "./schemas";
import { headerView } from "./views";

/** A channel's custom headers, one by one (`/webhooks/{id}/headers`); values are stored encrypted. */

const tags = ["Webhooks"];
const HeaderParams = IdParam.extend({ header_id: z.string().openapi({ param: { in: "path" } }) });

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
export const headerRoutes = router()
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
  });

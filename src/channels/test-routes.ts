import { createRoute, z } from "@hono/zod-openapi";
import { config } from "../core/env";
import { admin, errorResponses, IdParam, json, jsonBody, router } from "../core/openapi";
import { database } from "../db/client";
import { eventType } from "../portal/catalog";
import { secretBox } from "../security/secret-box";
import { getChannel } from "./queries";
import { ConnectionTest, TestEventResult } from "./schemas";
import { testConnection } from "./test-connection";
import { sendTestEvent } from "./test-event";

/** Trying a channel's target without recording anything: Test Connection and a test event. */

const tags = ["Webhooks"];

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
export const channelTestRoutes = router()
  .openapi(test, async (c) => {
    const { row, events } = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await testConnection(row.url, row.timeoutSeconds, config(c.env).allowPrivateTargets, events), 200);
  })
  .openapi(testEvent, async (c) => {
    const box = await secretBox(c.env);
    const channel = await getChannel(database(c.env.DB), c.req.valid("param").id);
    return c.json(await sendTestEvent(channel, c.req.valid("json").Event, box, config(c.env)), 200);
  });

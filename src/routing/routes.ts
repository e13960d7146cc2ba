import { createRoute, z } from "@hono/zod-openapi";
import { config } from "../core/env";
import { ApiError } from "../core/errors";
import { admin, errorResponses, json, jsonBody, router } from "../core/openapi";
import { database, iso } from "../db/client";
import { listEvents } from "../db/newest-events";
import { eventType } from "../portal/catalog";
import { sampleEvent } from "../portal/samples";
import { checkFilter, compileFilter } from "./filter";
import { formatNames, renderBody } from "./formats";

const RECENT = 20;

const Preview = z
  .strictObject({
    Event: eventType,
    Format: z.enum(formatNames, { error: `must be one of ${formatNames.join(", ")}` }).default("raw"),
    Filter: z.unknown().optional().openapi({ type: "object", description: "A filter to try on the last 20 events of the type" }),
  })
  .openapi("RoutingPreview");

const preview = createRoute({
  method: "post",
  path: "/routing/preview",
  tags: ["Webhooks"],
  security: admin,
  summary: "What a channel's Format sends for a type's sample, and which of the last 20 events of the type a Filter lets through",
  request: { body: jsonBody(Preview) },
  responses: {
    200: json(
      z.object({
        Body: z.string().openapi({ description: "The body the Format sends for the type's sample payload" }),
        Matches: z.array(z.object({ ID: z.string(), ReceivedAt: z.string(), Matched: z.boolean() })),
      }),
      "The preview",
    ),
    ...errorResponses,
  },
});

export const routingRoutes = router().openapi(preview, async (c) => {
  const { Event, Format, Filter } = c.req.valid("json");
  const body = renderBody(Format, sampleEvent(Event), config(c.env).portalUrl);
  if (Filter === undefined || Filter === null) return c.json({ Body: body, Matches: [] }, 200);
  const problems = checkFilter(Filter);
  if (problems.length)
    throw new ApiError(
      422,
      problems.map(([path, why]) => `${path}: ${why}`),
    );
  const test = compileFilter(Filter as Record<string, never>);
  const recent = await listEvents(database(c.env.DB), Event, 1, RECENT);
  return c.json({ Body: body, Matches: recent.map((e) => ({ ID: e.id, ReceivedAt: iso(e.receivedAt)!, Matched: test(JSON.parse(e.body)) })) }, 200);
});

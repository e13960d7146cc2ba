import { createRoute, z } from "@hono/zod-openapi";
import { admin, errorResponses, IdParam, json, router } from "../core/openapi";
import { database } from "../db/client";
import { channelOrdering, waitingLanes } from "./lanes";

const Lane = z
  .object({
    Key: z
      .string()
      .nullable()
      .openapi({ description: 'The lane\'s value of Ordering.Key ("" for events without it); null when the whole webhook is one lane' }),
    Head: z.object({
      ID: z.string(),
      EventID: z.string(),
      EventType: z.string(),
      Status: z.string(),
      AttemptCount: z.int(),
      NextAttemptAt: z.string().nullable(),
      LastError: z.string().nullable(),
    }),
    Waiting: z.int().openapi({ description: "Deliveries waiting behind the head" }),
    Since: z.string().openapi({ description: "When the head was created" }),
  })
  .openapi("Lane");

const lanesRoute = createRoute({
  method: "get",
  path: "/{id}/lanes",
  tags: ["Webhooks"],
  security: admin,
  summary: "The lanes of an ordered webhook that have deliveries waiting, with the delivery at the head of each (the longest-waiting first, at most 100)",
  request: { params: IdParam },
  responses: { 200: json(z.array(Lane), "Waiting lanes; [] for a webhook without Ordering"), ...errorResponses },
});

export const laneRoutes = router().openapi(lanesRoute, async (c) => {
  const { id } = c.req.valid("param");
  const db = database(c.env.DB);
  const ordering = await channelOrdering(db, id);
  // Lanes of an Ordering since removed still drain in their order: they are shown too.
  return c.json(await waitingLanes(db, id, ordering?.Key != null), 200);
});

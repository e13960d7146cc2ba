import { createRoute, z } from "@hono/zod-openapi";
import { config } from "../core/env";
import { ApiError, NotFound } from "../core/errors";
import { admin, errorResponses, json, router } from "../core/openapi";
import { channelExists } from "../db/channel-names";
import { database } from "../db/client";
import { deliveryStatuses } from "../db/delivery-state";
import { timestamp } from "../http/rfc3339";
import { deliveryStats } from "./query";

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_WINDOW_MS = 400 * DAY_MS;

const Counts = z.object(Object.fromEntries(deliveryStatuses.map((s) => [s, z.int()]))).openapi("Counts");
const Latency = z.object({ P50: z.int().nullable(), P95: z.int().nullable() }).openapi("LatencyMs");
const Health = {
  Counts,
  SuccessRate: z.number().nullable().openapi({ description: "succeeded / (succeeded + failed), null when neither" }),
  LatencyMs: Latency,
};
const Stats = z
  .object({
    Since: z.string(),
    Until: z.string(),
    ...Health,
    Webhooks: z.array(
      z.object({
        ID: z.string(),
        Name: z.string().nullable().openapi({ description: "Kept after the webhook is deleted" }),
        Deleted: z.boolean().openapi({ description: "Beside the contract: the webhook was deleted" }),
        ...Health,
        LastError: z.string().nullable(),
        LastFailureAt: z.string().nullable(),
        Trend: z.array(z.tuple([z.int(), z.int()])).openapi({ description: "Beside the contract: [succeeded, failed] per Series bucket, for a sparkline" }),
      }),
    ),
    Series: z.array(z.object({ Start: z.string(), Counts })).openapi({ description: "The window in at most 60 equal buckets" }),
    StoredLate: z.int().openapi({
      description:
        "Beside the contract: events received in the window while the database could not take them, accepted from the storing queue and stored later (all webhooks)",
    }),
    RetentionDays: z.int().openapi({ description: "Beside the contract: deliveries older than this are purged (held ones too)" }),
  })
  .openapi("Stats");

const query = <T extends z.ZodType>(schema: T) => schema.optional().openapi({ param: { in: "query" } });

const stats = createRoute({
  method: "get",
  path: "/stats",
  tags: ["Stats"],
  security: admin,
  summary: "Delivery health over the deliveries created in a window (default: the last 24 hours)",
  request: { query: z.strictObject({ since: query(timestamp), until: query(timestamp), webhook_id: query(z.string().min(1)) }) },
  responses: { 200: json(Stats, "Counts, success rate, latency, per webhook and over time"), ...errorResponses },
});

export const statsRoutes = router().openapi(stats, async (c) => {
  const q = c.req.valid("query");
  const until = q.until ? Date.parse(q.until) : Date.now();
  const since = q.since ? Date.parse(q.since) : until - DAY_MS;
  if (since >= until) throw ApiError.invalid("since", "must be before until");
  if (until - since > MAX_WINDOW_MS) throw ApiError.invalid("since", "the window must be at most 400 days");
  const db = database(c.env.DB);
  if (q.webhook_id && !(await channelExists(db, q.webhook_id))) throw new NotFound("Webhook");
  return c.json({ ...(await deliveryStats(db, { since, until, webhookId: q.webhook_id })), RetentionDays: config(c.env).retentionDays }, 200);
});

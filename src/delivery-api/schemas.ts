import { z } from "@hono/zod-openapi";
import { sinceBeforeUntil, WebhookId } from "../core/openapi";
import { deliveryStatuses } from "../db/delivery-state";
import { timestamp } from "../http/rfc3339";
import { eventType } from "../portal/catalog";

/** The API's shapes for deliveries: what the routes answer and what they take. */

export const Delivery = z
  .object({
    ID: z.string(),
    EventID: z.string(),
    WebhookID: z.string(),
    EventType: z.string(),
    Status: z.enum(deliveryStatuses),
    AttemptCount: z.int(),
    NextAttemptAt: z.string().nullable(),
    LastStatusCode: z.int().nullable(),
    LastError: z.string().nullable(),
    CreatedAt: z.string(),
    UpdatedAt: z.string(),
    // In lists, beside the contract's fields:
    WebhookName: z.string().nullable().optional().openapi({ description: "In lists: the channel's name, kept after it is deleted" }),
    WebhookDeleted: z.boolean().optional().openapi({ description: "In lists: the channel was deleted" }),
    CanRedeliver: z
      .boolean()
      .optional()
      .openapi({ description: "In lists: the channel exists, is enabled and still subscribes to the type, and the delivery is not held" }),
    LastAttemptAt: z.string().nullable().optional(),
    LastDurationMs: z.int().nullable().optional(),
  })
  .openapi("Delivery");

export const Attempt = z
  .object({
    Attempt: z.int(),
    StartedAt: z.string(),
    DurationMs: z.int(),
    StatusCode: z.int().nullable(),
    Error: z.string().nullable(),
    ResponseBody: z.string().nullable().openapi({ description: "The first KiB of the response" }),
    Request: z.object({ URL: z.string(), Body: z.string() }).optional().openapi({
      description: "What was sent, when the webhook rewrites it (Transform, URL placeholders): the URL and the first KiB of the body, secrets masked",
    }),
  })
  .openapi("Attempt");

export const DeliveryWithAttempts = Delivery.extend({ Attempts: z.array(Attempt) }).openapi("DeliveryWithAttempts");

export const StatusFilter = z
  .enum(deliveryStatuses, { error: `must be one of ${deliveryStatuses.join(", ")}` })
  .optional()
  .openapi({ param: { in: "query" } });

export const RequeuedCount = z.object({ Requeued: z.int() }).openapi("Requeued");

export const WouldRequeue = z.object({ WouldRequeue: z.int() }).openapi("WouldRequeue");

const query = <T extends z.ZodType>(schema: T) => schema.optional().openapi({ param: { in: "query" } });

/**
 * The filters of the deliveries of every channel; `since` and `until` bound their creation
 * (in order: see `sinceBeforeUntil`). A webhook or event they name that is not known is a
 * 404, as `GET /stats?webhook_id=` answers, not an empty list.
 */
export const DeliveryFilters = z.strictObject({
  status: StatusFilter,
  webhook_id: query(z.string().min(1)).openapi({ param: { in: "query" }, description: "Only this webhook's (a deleted one's too); an unknown one is a 404" }),
  event_type: query(eventType),
  event_id: query(z.string().min(1)).openapi({ param: { in: "query" }, description: "Only this event's; an unknown one is a 404" }),
  since: query(timestamp),
  until: query(timestamp),
  q: query(z.string().trim().min(1).max(200)).openapi({
    param: { in: "query" },
    description: "Deliveries of the events whose payload contains the text, in any case; within since/until (default the last 24 h, at most 31 days)",
  }),
});

export const RecoverAll = sinceBeforeUntil(
  z.strictObject({
    Since: timestamp,
    Until: timestamp.optional(),
    WebhookID: WebhookId.optional().openapi({ description: "Only this webhook's; one that does not exist is a 404" }),
    EventType: eventType.optional(),
    DryRun: z.boolean().optional(),
  }),
  "Since",
  "Until",
).openapi("RecoverAll");

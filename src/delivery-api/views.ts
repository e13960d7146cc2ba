import { iso } from "../db/client";
import type { AttemptRecord } from "../db/delivery-state";
import type { ListedDelivery } from "./queries";

/** Deliveries and attempts as the admin API shows them. */

export function deliveryView(row: ListedDelivery) {
  const listed =
    row.webhookDeleted === undefined
      ? {}
      : {
          WebhookName: row.webhookName ?? null,
          WebhookDeleted: Boolean(row.webhookDeleted),
          CanRedeliver: Boolean(row.canRedeliver),
          LastAttemptAt: iso(row.lastAttemptAt == null ? null : Number(row.lastAttemptAt)),
          LastDurationMs: row.lastDurationMs == null ? null : Number(row.lastDurationMs),
        };
  return {
    ID: row.id,
    EventID: row.eventId,
    WebhookID: row.channelId,
    EventType: row.eventType,
    Status: row.status,
    AttemptCount: row.attemptCount,
    NextAttemptAt: iso(row.nextAttemptAt),
    LastStatusCode: row.lastStatusCode,
    LastError: row.lastError,
    CreatedAt: iso(row.createdAt)!,
    UpdatedAt: iso(row.updatedAt)!,
    ...listed,
  };
}

export function attemptView(attempt: AttemptRecord) {
  return {
    Attempt: attempt.attempt,
    StartedAt: iso(attempt.startedAt)!,
    DurationMs: attempt.durationMs,
    StatusCode: attempt.statusCode,
    Error: attempt.error,
    ResponseBody: attempt.responseBody,
    ...(attempt.request ? { Request: { URL: attempt.request.url, Body: attempt.request.body } } : {}),
  };
}

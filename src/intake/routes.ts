import { createRoute, z } from "@hono/zod-openapi";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requireToken } from "../core/auth";
import type { AppEnv } from "../core/env";
import { ApiError, Refused } from "../core/errors";
import { errorText, log } from "../core/log";
import { Errors, json, ServerError } from "../core/openapi";
import { database } from "../db/client";
import { INTAKE_RETRY, withD1Retry } from "../db/d1-retry";
import { timeOrderedId } from "../db/ids";
import { assertJsonStructure } from "../http/json-body";
import { timestamp } from "../http/rfc3339";
import { catalog, portalEvent, portalEventTypes } from "../portal/catalog";
import { enqueueCommitted, messageFor } from "../queue/enqueue";
import { bytesToHex } from "../security/encoding";
import { recordSeen, refusedNoteDue } from "./connection-status";
import { AFTER_ABANDONED_TRY_SECONDS, park, TimedOut, within } from "./parked";
import { type Recorded, recordEvent } from "./store";

export const MAX_EVENT_BYTES = 256 * 1024;
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** D1's share of the portal's wait, tries included (ms); parking has 2 s more at most. */
const D1_WITHIN_MS = 2500;
/** When a portal refused with 503 should send the event again (seconds). */
const RETRY_AFTER_SECONDS = 30;

/** Work that must not hold up the answer (kept alive by waitUntil where the runtime gives one). */
function inBackground(c: Context<AppEnv>, work: Promise<unknown>) {
  const quiet = work.catch((err) => log.forRequest(c.get("requestId")).warn("background work failed", { error: errorText(err) }));
  try {
    c.executionCtx.waitUntil(quiet);
  } catch {
    // No execution context (a direct app.request in tests): the promise still runs.
  }
}

const errors = (description: string) => json(Errors, description);

/**
 * `POST /events` in the OpenAPI document. Documentation only: the route below reads the
 * raw bytes itself (they are forwarded byte for byte), so nothing here parses a request.
 * Its own `servers` entry, since the document's paths are under `/portal-api`.
 */
export const postEventsDocument = createRoute({
  method: "post",
  path: "/events",
  servers: [{ url: "/", description: "The dispatcher's root: intake is not under /portal-api" }],
  tags: ["Intake"],
  security: [{ IntakeToken: [] }],
  summary: "Receive an event from the portal: stored, then one delivery queued per subscribed enabled webhook",
  request: {
    headers: z.object({
      "Idempotency-Key": z
        .string()
        .regex(/^[\x21-\x7e]{1,255}$/)
        .optional()
        .openapi({ description: "The same key within 24 hours is the same event (with another body: a 422)" }),
    }),
    body: {
      required: true,
      description: `At most ${MAX_EVENT_BYTES / 1024} KiB. Message fields beyond the ones shown are kept.`,
      content: {
        "application/json": {
          schema: z
            .union(portalEventTypes.map((type) => z.looseObject({ Event: z.literal(type), Message: catalog[type], Timestamp: timestamp })))
            .openapi("PortalEvent"),
        },
      },
    },
  },
  responses: {
    202: json(
      z.object({
        ID: z.string(),
        Deliveries: z.int().nullable().openapi({ description: "null: stored through a database outage, its deliveries not known yet" }),
      }),
      "Accepted: stored (or, through a database outage, durably queued to be stored under this ID)",
    ),
    200: json(
      z.object({ ID: z.string().openapi({ description: "The first event's ID" }), Deliveries: z.int(), Duplicate: z.literal(true) }),
      "The same body, or the same Idempotency-Key, within 24 hours: nothing new is queued",
    ),
    400: errors("Not valid UTF-8, or malformed JSON"),
    401: errors("Missing or wrong intake token"),
    413: errors(`Body larger than ${MAX_EVENT_BYTES / 1024} KiB`),
    415: errors("Content-Type is not application/json"),
    422: errors(
      "An unknown Event, a Timestamp that is not RFC 3339, a Message that does not fit its type, or an Idempotency-Key already used for another body; each entry names its field",
    ),
    503: {
      ...json(ServerError, "Neither the database nor the storing queue can take the event now: send it again after Retry-After"),
      headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } },
    },
  },
});

export const intakeRoutes = new Hono<AppEnv>()
  // The portal's Test Connection sends a bare HEAD; GET answers HEAD too. The HEAD is
  // noted so the admin UI can show that the portal reached the dispatcher.
  .get("/", (c) => {
    if (c.req.method === "HEAD") inBackground(c, recordSeen(database(c.env.DB), "head", Date.now()));
    return c.json({ status: "ok" });
  })
  .post(
    "/",
    // A portal sending the wrong token is noted too: "it reaches us, but is refused";
    // at most once a minute per isolate, so a flood of them costs no D1 write each.
    async (c, next) => {
      await next();
      const now = Date.now();
      if (c.res.status === 401 && refusedNoteDue(now)) inBackground(c, recordSeen(database(c.env.DB), "unauthorized", now));
    },
    requireToken("INTAKE_TOKEN"),
    async (c, next) => {
      if (!JSON_MEDIA_TYPE.test(c.req.header("Content-Type") ?? "")) {
        throw new ApiError(415, ["Content-Type: must be application/json"]);
      }
      await next();
    },
    bodyLimit({
      maxSize: MAX_EVENT_BYTES,
      onError: () => {
        throw new ApiError(413, [`body: larger than ${MAX_EVENT_BYTES / 1024} KiB`]);
      },
    }),
    async (c) => {
      // The bytes are kept exactly as they came, so they must be valid UTF-8 to be stored as text.
      const bytes = await c.req.arrayBuffer();
      let body: string;
      let json: unknown;
      try {
        body = utf8.decode(bytes);
      } catch {
        throw new ApiError(400, ["body: not valid UTF-8"]);
      }
      try {
        json = JSON.parse(body);
      } catch {
        throw new ApiError(400, ["body: malformed JSON"]);
      }
      assertJsonStructure(body);
      const parsed = portalEvent.safeParse(json);
      if (!parsed.success) throw ApiError.fromZod(parsed.error);

      const idempotencyKey = c.req.header("Idempotency-Key") ?? null;
      if (idempotencyKey !== null && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
        throw ApiError.invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters");
      }

      const receivedAt = Date.now();
      const id = timeOrderedId(receivedAt);
      const event = { id, type: parsed.data.Event, body, bodyHash: await sha256Hex(bytes), idempotencyKey, receivedAt };
      let recorded: Recorded;
      try {
        // A try after the first may find the event committed by a try whose answer was lost.
        recorded = await within(
          withD1Retry((attempt) => recordEvent(c.env.DB, event, json, { again: attempt > 1 }), INTAKE_RETRY),
          D1_WITHIN_MS,
          "D1",
        );
      } catch (err) {
        if (err instanceof Refused) throw err;
        // D1 cannot take it now (an outage, an overload, a hang): the storing queue keeps it
        // under its id until D1 can. Never a 500: a 503 with Retry-After only if that fails too.
        log.forRequest(c.get("requestId")).error("D1 could not take an event", { eventId: id, error: errorText(err) });
        if (!(await park(c.env, event, bytes, err instanceof TimedOut ? AFTER_ABANDONED_TRY_SECONDS : 0))) {
          throw ApiError.unavailable(["server: the event could not be stored now; send it again later"], RETRY_AFTER_SECONDS);
        }
        return c.json({ ID: id, Deliveries: null }, 202);
      }
      if (recorded.duplicate) {
        return c.json({ ID: recorded.eventId, Deliveries: recorded.deliveries, Duplicate: true }, 200);
      }

      // Committed as `pending`: if the queue refuses them, the sweeper sends them; the portal still gets its 202.
      await enqueueCommitted(
        c.env.DELIVERIES,
        recorded.deliveries.map((d) => messageFor({ ...d, generation: 0 })),
        `event ${id}`,
      );
      return c.json({ ID: id, Deliveries: recorded.deliveries.length + recorded.held }, 202);
    },
  );

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

import { createRoute, z } from "@hono/zod-openapi";
import { ConfigError } from "../core/errors";
import { admin, errorResponses, json, router } from "../core/openapi";
import { database } from "../db/client";
import { intakeStatus } from "./connection-status";

const tags = ["Intake"];

const IntakeStatus = z
  .object({
    URL: z.string().openapi({ description: "The Target URL to give the portal" }),
    LastTestConnectionAt: z.string().nullable().openapi({ description: "When the portal's Test Connection (a HEAD) last arrived" }),
    LastRefusedAt: z.string().nullable().openapi({ description: "When an event was last refused for a missing or wrong token" }),
    LastEventAt: z.string().nullable(),
    LastEventType: z.string().nullable(),
  })
  .openapi("IntakeStatus");

const status = createRoute({
  method: "get",
  path: "/intake",
  tags,
  security: admin,
  summary: "Whether the portal has reached the dispatcher, and when",
  responses: { 200: json(IntakeStatus, "The intake's status"), ...errorResponses },
});

const token = createRoute({
  method: "get",
  path: "/intake/token",
  tags,
  security: admin,
  summary: "The intake token, to paste into the portal",
  responses: { 200: json(z.object({ Token: z.string() }).openapi("IntakeToken"), "The INTAKE_TOKEN"), ...errorResponses },
});

export const intakeAdminRoutes = router()
  .openapi(status, async (c) => {
    const url = `${new URL(c.req.url).origin}/events`;
    return c.json({ URL: url, ...(await intakeStatus(database(c.env.DB))) }, 200);
  })
  .openapi(token, (c) => {
    if (!c.env.INTAKE_TOKEN) throw ConfigError.missing("INTAKE_TOKEN");
    return c.json({ Token: c.env.INTAKE_TOKEN }, 200);
  });

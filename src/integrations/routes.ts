import { createRoute, z } from "@hono/zod-openapi";
import { config } from "../core/env";
import { ApiError } from "../core/errors";
import { admin, errorResponses, json, jsonBody, router } from "../core/openapi";
import { database } from "../db/client";
import { listEvents } from "../db/newest-events";
import { methods } from "../http/headers";
import { boundedArray, type EventType, eventType } from "../portal/catalog";
import { sampleEvent } from "../portal/samples";
import { type PreviewEvent, previewRequests } from "./preview";
import { TransformField } from "./schemas";
import { templates } from "./templates";
import { urlWithPlaceholdersProblem } from "./url-fields";

const tags = ["Integrations"];

const Template = z
  .object({
    ID: z.string(),
    Name: z.string(),
    Description: z.string().openapi({ description: "What it does, and how it keeps at-least-once delivery from creating duplicates" }),
    Events: z.array(eventType),
    Method: z.enum(methods),
    URL: z.string().openapi({ description: "With placeholders, and a host to replace" }),
    Transform: z.object({ Body: z.string() }),
    Auth: z.object({ Type: z.enum(["basic", "oauth2"]) }).nullable(),
    Headers: z.array(z.string()).openapi({ description: "Names of the custom headers the target needs" }),
  })
  .openapi("Template");

const list = createRoute({
  method: "get",
  path: "/templates",
  tags,
  security: admin,
  summary: "Ready-made integrations: billing (Lago, Moesif), CRM (HubSpot, Salesforce), ITSM (Jira Service Management, ServiceNow)",
  responses: { 200: json(z.array(Template), "The templates"), ...errorResponses },
});

const Preview = z
  .strictObject({
    URL: z.string().trim().min(1, "is required").max(2048),
    Method: z.enum(methods, { error: "must be one of POST, PUT, PATCH" }).default("POST"),
    Events: boundedArray(eventType, 100, { min: 1, tooFew: "must name at least one event type" }),
    Transform: TransformField.default(null),
    Auth: z
      .object({ Type: z.enum(["basic", "oauth2"], { error: "must be basic or oauth2" }) })
      .nullable()
      .default(null),
    HeaderNames: z.array(z.string().max(256)).max(20).default([]),
  })
  .openapi("IntegrationPreview");

const PreviewRequest = z
  .object({
    Event: z.string(),
    EventID: z.string().nullable().openapi({ description: "The stored event used, or null for the type's sample" }),
    Method: z.string(),
    URL: z.string().nullable(),
    Headers: z.array(z.tuple([z.string(), z.string()])).openapi({ description: "Secrets masked" }),
    Body: z.string().nullable(),
    Error: z.string().nullable(),
  })
  .openapi("PreviewRequest");

const preview = createRoute({
  method: "post",
  path: "/integrations/preview",
  tags,
  security: admin,
  summary: "The request unsaved channel settings would send for the newest event of each type (or its sample); nothing is sent",
  request: { body: jsonBody(Preview) },
  responses: { 200: json(z.array(PreviewRequest), "One request per event type"), ...errorResponses },
});

export const integrationRoutes = router()
  .openapi(list, (c) => c.json([...templates], 200))
  .openapi(preview, async (c) => {
    const input = c.req.valid("json");
    const cfg = config(c.env);
    const problem = urlWithPlaceholdersProblem(input.URL, cfg.allowPrivateTargets);
    if (problem) throw ApiError.invalid("URL", problem);
    const db = database(c.env.DB);
    const events = await Promise.all(
      [...new Set(input.Events)].map(async (type): Promise<PreviewEvent> => {
        const [newest] = await listEvents(db, type, 1, 1);
        return newest ? { type, id: newest.id, body: newest.body } : { type, id: null, body: sampleEvent(type as EventType) };
      }),
    );
    return c.json(await previewRequests(input, events, cfg.portalUrl), 200);
  });

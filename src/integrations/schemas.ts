import { z } from "@hono/zod-openapi";
import { targetUrlProblem } from "../security/target-url";
import { MAX_TRANSFORM_BYTES, transformProblem } from "./transform";

/** `Transform: {"Body": "<JSONata expression>"}` or null; a malformed expression names where. */
export const TransformField = z
  .strictObject({
    Body: z
      .string()
      .max(MAX_TRANSFORM_BYTES, `must be at most ${MAX_TRANSFORM_BYTES} bytes`)
      .superRefine((expression, ctx) => {
        const problem = transformProblem(expression);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
  })
  .nullable()
  .openapi("Transform", {
    description: "A JSONata expression that writes the body from {Event, Message, Timestamp}; $eventId, $webhookId and $portalUrl are bound",
  });

const secret = z.string().min(1, "must not be empty").max(4096);
const field = z.string().trim().min(1, "must not be empty").max(1024);

const TokenUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((url, ctx) => {
    const problem = targetUrlProblem(url, true);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/**
 * `Auth`: basic or OAuth 2.0 client credentials (src/integrations/auth.ts). The secret may
 * be left out on a change to keep the stored one.
 */
export const AuthField = z
  .discriminatedUnion(
    "Type",
    [
      z.strictObject({ Type: z.literal("basic"), Username: field, Password: secret.optional() }),
      z.strictObject({
        Type: z.literal("oauth2"),
        TokenURL: TokenUrl,
        ClientID: field,
        ClientSecret: secret.optional(),
        Scope: field.nullable().optional(),
        Audience: field.nullable().optional(),
        ClientAuth: z.enum(["basic", "body"], { error: "must be basic or body" }).optional(),
      }),
    ],
    { error: "must be basic or oauth2" },
  )
  .nullable()
  .openapi("Auth", { description: "basic or oauth2 (client credentials); secrets are write-only and shown as [set]" });

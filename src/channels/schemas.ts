import { z } from "@hono/zod-openapi";
import { deliveryStatuses } from "../db/delivery-state";
import { HEADER_NAME, HEADER_VALUE, isReservedHeader, methods, RESERVED_TEXT } from "../http/headers";
import { AuthField, TransformField } from "../integrations/schemas";
import { urlWithPlaceholdersProblem } from "../integrations/url-fields";
import { boundedArray, eventType } from "../portal/catalog";
import { checkFilter } from "../routing/filter";
import { formatNames } from "../routing/formats";

export const HeaderName = z
  .string()
  .min(1, "is required")
  .max(256)
  .regex(HEADER_NAME, "must be a valid HTTP header name (a token)")
  .refine((name) => !isReservedHeader(name), `is reserved (${RESERVED_TEXT})`);

export const HeaderValue = z.string().max(8192).regex(HEADER_VALUE, "must hold only visible ASCII characters, spaces and tabs");

export const HeaderInput = z.strictObject({ Name: HeaderName, Value: HeaderValue }).openapi("HeaderInput");
export const HeaderPatch = HeaderInput.partial().openapi("HeaderPatch");

export const Header = z.object({ ID: z.string(), Name: z.string(), Value: z.string(), WebhookID: z.string() }).openapi("Header");

export const MAX_HEADERS = 20;

const headerList = boundedArray(HeaderInput, MAX_HEADERS, { tooMany: `must hold at most ${MAX_HEADERS} headers` }).refine(
  (list) => new Set(list.map((h) => h.Name.toLowerCase())).size === list.length,
  "must not name a header twice",
);

// Without defaults: a PATCH must leave absent fields absent.
const channelFields = {
  Name: z.string().trim().min(1, "must not be empty").max(200),
  // The form of the URL here, with the other fields; whether its address may be used
  // depends on the deployment (ALLOW_PRIVATE_TARGETS), so the routes check that.
  URL: z
    .string()
    .trim()
    .min(1, "is required")
    .max(2048)
    .superRefine((url, ctx) => {
      // One message per problem: an empty URL is only "is required".
      if (!url) return;
      // The URL parser would quietly percent-encode them; a URL with one is a paste gone wrong.
      if (/\p{Cc}/u.test(url)) return ctx.addIssue({ code: "custom", message: "must not contain control characters" });
      // Placeholders ({Message.Email}) in the path and query only; see src/integrations/url-fields.ts.
      const problem = urlWithPlaceholdersProblem(url, true);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  Method: z.enum(methods, { error: "must be one of POST, PUT, PATCH" }),
  Timeout: z.int("must be a whole number of seconds").min(1, "must be at least 1").max(60, "must be at most 60"),
  // Bounded before each item is checked: 150,000 bad names must not become 150,000 errors.
  Events: boundedArray(eventType, 100, { min: 1, tooFew: "must name at least one event type" }).transform((list) => [...new Set(list)]),
  Headers: headerList,
  Enabled: z.boolean(),
  Paused: z.boolean(),
  RateLimit: z.int("must be a whole number of requests per second").min(1, "must be at least 1").max(1000, "must be at most 1000").nullable(),
  Ordering: z
    .strictObject(
      {
        Key: z
          .string("must be a dotted path of names, or null for the whole channel")
          .max(200, "must be at most 200 characters")
          .regex(
            /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
            "must be a dotted path of names (a letter or _, then letters, digits, _), e.g. Message.ID",
          )
          .nullable(),
      },
      { error: 'must be null, {"Key": null} or {"Key": "<dotted path>"}' },
    )
    .nullable()
    .openapi({ description: "null: no order; {Key: null}: the whole channel in order; {Key: path}: in order per value of that path (see Flow control)" }),
  Filter: z
    .unknown()
    .superRefine((filter, ctx) => {
      if (filter === null) return;
      for (const [path, message] of checkFilter(filter)) {
        ctx.addIssue({ code: "custom", message, path: path === "Filter" ? [] : [path.slice("Filter.".length)] });
      }
    })
    .transform((filter) => (filter ?? null) as Record<string, never> | null)
    .openapi({ type: ["object", "null"], description: "A payload filter (see Routing); null lets every subscribed event through" }),
  Format: z.enum(formatNames, { error: `must be one of ${formatNames.join(", ")}` }),
  Transform: TransformField,
  Auth: AuthField,
};

/** A Transform writes the body itself: a chat Format would write it too. */
const transformWithFormat = (body: { Transform?: unknown; Format?: string }) => !(body.Transform && body.Format && body.Format !== "raw");
const TRANSFORM_WITH_FORMAT = { message: "cannot be used with a chat Format (slack, teams, discord): the Transform writes the body", path: ["Transform"] };

export const ChannelCreate = z
  .strictObject({
    ...channelFields,
    Method: channelFields.Method.default("POST"),
    Timeout: channelFields.Timeout.default(10),
    Headers: channelFields.Headers.default([]),
    Enabled: channelFields.Enabled.default(true),
    Paused: channelFields.Paused.default(false),
    RateLimit: channelFields.RateLimit.default(null),
    Ordering: channelFields.Ordering.default(null),
    Filter: channelFields.Filter.default(null),
    Format: channelFields.Format.default("raw"),
    Transform: channelFields.Transform.default(null),
    Auth: channelFields.Auth.default(null),
  })
  .refine(transformWithFormat, TRANSFORM_WITH_FORMAT)
  .openapi("ChannelCreate");

// The Transform-with-Format rule is checked against the stored channel too, in the store.
export const ChannelPatch = z.strictObject(channelFields).partial().refine(transformWithFormat, TRANSFORM_WITH_FORMAT).openapi("ChannelPatch");

export type ChannelCreateInput = z.infer<typeof ChannelCreate>;
export type ChannelPatchInput = z.infer<typeof ChannelPatch>;

export const Channel = z
  .object({
    ID: z.string(),
    Name: z.string(),
    URL: z.string(),
    Method: z.enum(methods),
    Timeout: z.int(),
    Events: z.array(eventType),
    Headers: z.array(z.object({ ID: z.string(), Name: z.string(), Value: z.string() })),
    Enabled: z.boolean(),
    DisabledReason: z.string().nullable(),
    Paused: z.boolean(),
    RateLimit: z.int().nullable(),
    Ordering: z.object({ Key: z.string().nullable() }).nullable(),
    Filter: z.record(z.string(), z.unknown()).nullable(),
    Format: z.enum(formatNames),
    Transform: z.object({ Body: z.string() }).nullable(),
    Auth: z.record(z.string(), z.unknown()).nullable().openapi({ description: "basic or oauth2; the password or client secret shown as [set]" }),
    CreatedAt: z.string(),
    UpdatedAt: z.string(),
  })
  .openapi("Channel");

export type ChannelView = z.infer<typeof Channel>;

/** A channel as the list shows it: what the Channels view needs, so it makes one request. */
export const ChannelListItem = Channel.extend({
  FailingSince: z.string().nullable().openapi({ description: "In lists: when its current run of failed attempts began; null after any success" }),
  LastDelivery: z
    .object({ ID: z.string(), Status: z.enum(deliveryStatuses), LastError: z.string().nullable(), CreatedAt: z.string(), UpdatedAt: z.string() })
    .nullable()
    .openapi({ description: "In lists: its newest delivery, null if none" }),
}).openapi("ChannelListItem");

export const Secret = z
  .object({
    Secret: z.string().openapi({ example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    PreviousSecret: z.string().nullable().optional(),
    PreviousSecretExpiresAt: z.string().nullable().optional(),
  })
  .openapi("Secret");

export const ConnectionTest = z
  .object({
    Success: z.boolean(),
    StatusCode: z.int().nullable(),
    DurationMs: z.int(),
    Error: z.string().nullable(),
  })
  .openapi("ConnectionTest");

export const TestEventResult = ConnectionTest.extend({
  ResponseBody: z.string().nullable().openapi({ description: "The first KiB of the response, secrets masked" }),
}).openapi("TestEventResult");

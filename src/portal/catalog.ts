import { z } from "zod";
import { timestamp } from "../http/rfc3339";

/**
 * The portal's events and the shape of each one's `Message`, taken from the sample
 * payloads of the portal's webhook documentation. Shapes are loose: fields the portal adds
 * later are kept. Adding an event type is one entry in `catalog`.
 */

/**
 * An array of at most `max` items, each checked only once the length is known to be sane:
 * a body of 70,000 bad items would otherwise become 140,000 problems to collect.
 */
export const boundedArray = <T extends z.ZodType>(item: T, max: number, rules: { tooMany?: string; min?: number; tooFew?: string } = {}) =>
  z
    .array(z.unknown())
    .min(rules.min ?? 0, rules.tooFew)
    .max(max, rules.tooMany ?? `must hold at most ${max} items`)
    .pipe(z.array(item));

// Far above anything the portal sends; only a hostile body comes near.
const MAX_ITEMS = 1000;

const id = z.int();
const ids = boundedArray(z.int(), MAX_ITEMS);

const customAttributes = boundedArray(z.looseObject({ Identifier: z.string(), Value: z.string() }), MAX_ITEMS);

const user = z.looseObject({
  ID: id,
  Email: z.string(),
  First: z.string(),
  Last: z.string(),
  OrgID: id,
  Provider: z.string(),
  Status: z.string(),
  CreatedAt: timestamp,
  ByUser: id.optional(),
  CustomAttributes: customAttributes,
});

const application = z.looseObject({ ID: id, Name: z.string(), UserID: id, CreatedAt: timestamp });

const credential = z.looseObject({ ID: id, ByUser: id, AccessRequestID: id, AppID: id, CreatedAt: timestamp });

// `ID: 0` and `CreatedAt: "0001-01-01T00:00:00Z"` are what the portal really sends for
// AccessRequestCreated (Go zero values): valid, not missing.
const accessRequest = z.looseObject({
  ID: id,
  AppID: id,
  ByUser: id,
  Status: z.string(),
  ProductIDs: ids,
  PlanID: id,
  CreatedAt: timestamp,
});

const organisation = z.looseObject({ ID: id, Name: z.string(), CreatedAt: timestamp });

const organisationRequest = z.looseObject({
  Name: z.string(),
  AdminEmail: z.string(),
  AdminID: id,
  ByUser: id,
  TeamIDs: ids,
  Status: z.string(),
  CreatedAt: timestamp,
});

export const catalog = {
  UserRegistered: user,
  UserAccountActivated: user,
  UserAccountDeactivated: user,
  PasswordReset: user,
  ApplicationRegistered: application,
  CredentialRegistered: credential,
  AccessRequestCreated: accessRequest,
  AccessRequestApproved: accessRequest,
  AccessRequestRejected: accessRequest,
  OrganisationRegistered: organisation,
  OrganisationRequestCreated: organisationRequest,
  OrganisationRequestApproved: user,
  OrganisationRequestRejected: organisationRequest,
  // In the portal's API enum; its Message is not documented.
  RegisterInvite: z.looseObject({}),
} satisfies Record<string, z.ZodType>;

/**
 * The dispatcher's own events (contract: Operational events), raised by the consumer and
 * the sweeper and delivered like the portal's to the channels subscribed to them. The
 * portal cannot post them.
 */
export const operationalCatalog = {
  "Dispatcher.DeliveryFailed": z.looseObject({
    DeliveryID: z.string(),
    WebhookID: z.string(),
    WebhookName: z.string().nullable(),
    EventID: z.string(),
    EventType: z.string(),
    Attempts: z.int(),
    LastStatusCode: z.int().nullable(),
    LastError: z.string().nullable(),
  }),
  "Dispatcher.WebhookDisabled": z.looseObject({ WebhookID: z.string(), WebhookName: z.string(), Reason: z.string() }),
} satisfies Record<string, z.ZodType>;

export type PortalEventType = keyof typeof catalog;
export type OperationalEventType = keyof typeof operationalCatalog;
export type EventType = PortalEventType | OperationalEventType;

export const portalEventTypes = Object.keys(catalog) as [PortalEventType, ...PortalEventType[]];
/** Every type a channel can subscribe to: the portal's 14, then the dispatcher's 2. */
export const eventTypes = [...portalEventTypes, ...(Object.keys(operationalCatalog) as OperationalEventType[])] as [EventType, ...EventType[]];
export const eventType = z.enum(eventTypes, { error: `must be one of ${eventTypes.join(", ")}` });
const portalEventType = z.enum(portalEventTypes, { error: `must be one of ${portalEventTypes.join(", ")}` });

export const isOperational = (type: string) => type in operationalCatalog;

/** The envelope the portal posts: `{"Event", "Message", "Timestamp"}`, checked against the catalog. */
export const portalEvent = z
  .looseObject({
    Event: z.string({ error: "is required" }).pipe(portalEventType),
    Message: z.looseObject({}, { error: "must be an object" }),
    Timestamp: timestamp,
  })
  .superRefine((event, ctx) => {
    const shape = catalog[event.Event];
    const result = shape.safeParse(event.Message);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: ["Message", ...issue.path] } as never);
    }
  });

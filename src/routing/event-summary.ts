// What each event says in a chat message: one sentence, the key fields, the time, and the portal's admin path for it.
import { displayText, plainText } from "./plain-text";

export interface Summary {
  sentence: string;
  fields: [string, string][];
  time: string;
  /** The portal's admin path for it, when there is one. */
  path?: string;
}

type Message = Record<string, unknown>;

export const isRecord = (v: unknown): v is Message => typeof v === "object" && v !== null && !Array.isArray(v);
/** A portal value as plain text ("?" when missing); arrays are listed ("none" when empty). */
const text = (v: unknown) => plainText(displayText(v)) || "?";
const list = text;
/** A link to the portal's admin page, only for an id that is one path segment as it is. */
const adminPath = (prefix: string, id: unknown) => {
  const segment = displayText(id);
  return /^[A-Za-z0-9_-]{1,64}$/.test(segment) ? `${prefix}${segment}` : undefined;
};
const person = (m: Message) => `${text(m.First)} ${text(m.Last)} (${text(m.Email)})`;

function userFields(m: Message): [string, string][] {
  return [
    ["User", `#${text(m.ID)}`],
    ["Email", text(m.Email)],
    ["Organisation", `#${text(m.OrgID)}`],
    ["Status", text(m.Status)],
    ["Provider", text(m.Provider)],
  ];
}
function accessRequest(m: Message, what: string): Pick<Summary, "sentence" | "fields" | "path"> {
  return {
    sentence: `${what} #${text(m.ID)} for app ${text(m.AppID)} (plan ${text(m.PlanID)}, products ${list(m.ProductIDs)}) by user ${text(m.ByUser)}`,
    fields: [
      ["Access request", `#${text(m.ID)}`],
      ["App", `#${text(m.AppID)}`],
      ["Plan", `#${text(m.PlanID)}`],
      ["Products", list(m.ProductIDs)],
      ["Status", text(m.Status)],
      ["By user", `#${text(m.ByUser)}`],
    ],
    path: adminPath("/admin/access_requests/", m.ID),
  };
}
function organisationRequest(m: Message, what: string): Pick<Summary, "sentence" | "fields" | "path"> {
  return {
    sentence: `${what} “${text(m.Name)}” from ${text(m.AdminEmail)}`,
    fields: [
      ["Organisation", text(m.Name)],
      ["Admin", text(m.AdminEmail)],
      ["Teams", list(m.TeamIDs)],
      ["Status", text(m.Status)],
    ],
    path: "/admin/organisation_requests",
  };
}

const SUMMARIES: Record<string, (m: Message) => Pick<Summary, "sentence" | "fields" | "path">> = {
  UserRegistered: (m) => ({ sentence: `New user registered: ${person(m)}`, fields: userFields(m), path: adminPath("/admin/users/", m.ID) }),
  UserAccountActivated: (m) => ({ sentence: `User account activated: ${person(m)}`, fields: userFields(m), path: adminPath("/admin/users/", m.ID) }),
  UserAccountDeactivated: (m) => ({ sentence: `User account deactivated: ${person(m)}`, fields: userFields(m), path: adminPath("/admin/users/", m.ID) }),
  PasswordReset: (m) => ({ sentence: `Password reset requested by ${person(m)}`, fields: userFields(m), path: adminPath("/admin/users/", m.ID) }),
  ApplicationRegistered: (m) => ({
    sentence: `New application #${text(m.ID)} “${text(m.Name)}” by user ${text(m.UserID)}`,
    fields: [
      ["App", `#${text(m.ID)}`],
      ["Name", text(m.Name)],
      ["User", `#${text(m.UserID)}`],
    ],
    path: adminPath("/admin/apps/", m.ID),
  }),
  CredentialRegistered: (m) => ({
    sentence: `New credential #${text(m.ID)} for app ${text(m.AppID)} (access request ${text(m.AccessRequestID)}) by user ${text(m.ByUser)}`,
    fields: [
      ["Credential", `#${text(m.ID)}`],
      ["App", `#${text(m.AppID)}`],
      ["Access request", `#${text(m.AccessRequestID)}`],
      ["By user", `#${text(m.ByUser)}`],
    ],
    path: adminPath("/admin/apps/", m.AppID),
  }),
  AccessRequestCreated: (m) => accessRequest(m, "New access request"),
  AccessRequestApproved: (m) => accessRequest(m, "Access request approved:"),
  AccessRequestRejected: (m) => accessRequest(m, "Access request rejected:"),
  OrganisationRegistered: (m) => ({
    sentence: `New organisation #${text(m.ID)} “${text(m.Name)}”`,
    fields: [
      ["Organisation", `#${text(m.ID)}`],
      ["Name", text(m.Name)],
    ],
    path: adminPath("/admin/organisations/", m.ID),
  }),
  OrganisationRequestCreated: (m) => organisationRequest(m, "New organisation request"),
  OrganisationRequestApproved: (m) => ({
    sentence: `Organisation request approved for ${person(m)}`,
    fields: userFields(m),
    path: adminPath("/admin/users/", m.ID),
  }),
  OrganisationRequestRejected: (m) => organisationRequest(m, "Organisation request rejected:"),
  RegisterInvite: (m) => ({
    sentence: `Registration invite${m.Email ? ` to ${text(m.Email)}` : ""}`,
    fields: Object.entries(m)
      .slice(0, 6)
      .map(([k, v]) => [text(k), list(v)]),
  }),
  "Dispatcher.DeliveryFailed": (m) => ({
    sentence: `Delivery to ${text(m.WebhookName)} failed for good after ${text(m.Attempts)} attempts: ${text(m.LastError)}`,
    fields: [
      ["Channel", text(m.WebhookName)],
      ["Event", `${text(m.EventType)} ${text(m.EventID)}`],
      ["Last status", text(m.LastStatusCode)],
      ["Delivery", text(m.DeliveryID)],
    ],
  }),
  "Dispatcher.WebhookDisabled": (m) => ({
    sentence: `Channel ${text(m.WebhookName)} was disabled: ${text(m.Reason)}`,
    fields: [
      ["Channel", text(m.WebhookName)],
      ["Reason", text(m.Reason)],
    ],
  }),
};

export function summarise(type: string, message: Message, time: string): Summary {
  const describe =
    (Object.hasOwn(SUMMARIES, type) ? SUMMARIES[type] : undefined) ??
    ((m: Message) => ({
      sentence: `${text(type)} event`,
      fields: Object.entries(m)
        .slice(0, 6)
        .map(([k, v]) => [text(k), list(v)] as [string, string]),
    }));
  return { ...describe(message), time };
}

/**
 * Chat formats (contract: Routing): the delivery's body becomes a message a person reads,
 * in Slack's, Microsoft Teams' (Workflows, one Adaptive Card) or Discord's incoming-webhook
 * format: one sentence of what happened, the key fields, the time, and with PORTAL_URL a
 * link to the portal's admin page for it. Every string the portal supplied (names,
 * emails) is escaped so that nobody is pinged and no markup is injected.
 */
export type Format = "raw" | "slack" | "teams" | "discord";

interface Summary {
  sentence: string;
  fields: [string, string][];
  time: string;
  /** The portal's admin path for it, when there is one. */
  path?: string;
}

type Message = Record<string, unknown>;

/** The message for an event body (JSON text), or the body itself for "raw". */
export function renderBody(format: Format, body: string, portalUrl?: string): string {
  if (format === "raw") return body;
  const event = JSON.parse(body) as { Event?: unknown; Message?: unknown; Timestamp?: unknown };
  const summary = summarise(String(event.Event), (event.Message ?? {}) as Message, String(event.Timestamp ?? ""));
  const link = portalUrl && summary.path ? `${portalUrl.replace(/\/+$/, "")}${summary.path}` : undefined;
  return JSON.stringify(RENDER[format](summary, link));
}

// --- what each event says ----------------------------------------------------------------

const text = (v: unknown) => (v === undefined || v === null || v === "" ? "?" : String(v));
const list = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(", ") : "none") : text(v));
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
    path: `/admin/access_requests/${text(m.ID)}`,
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
  UserRegistered: (m) => ({ sentence: `New user registered: ${person(m)}`, fields: userFields(m), path: `/admin/users/${text(m.ID)}` }),
  UserAccountActivated: (m) => ({ sentence: `User account activated: ${person(m)}`, fields: userFields(m), path: `/admin/users/${text(m.ID)}` }),
  UserAccountDeactivated: (m) => ({ sentence: `User account deactivated: ${person(m)}`, fields: userFields(m), path: `/admin/users/${text(m.ID)}` }),
  PasswordReset: (m) => ({ sentence: `Password reset requested by ${person(m)}`, fields: userFields(m), path: `/admin/users/${text(m.ID)}` }),
  ApplicationRegistered: (m) => ({
    sentence: `New application #${text(m.ID)} “${text(m.Name)}” by user ${text(m.UserID)}`,
    fields: [
      ["App", `#${text(m.ID)}`],
      ["Name", text(m.Name)],
      ["User", `#${text(m.UserID)}`],
    ],
    path: `/admin/apps/${text(m.ID)}`,
  }),
  CredentialRegistered: (m) => ({
    sentence: `New credential #${text(m.ID)} for app ${text(m.AppID)} (access request ${text(m.AccessRequestID)}) by user ${text(m.ByUser)}`,
    fields: [
      ["Credential", `#${text(m.ID)}`],
      ["App", `#${text(m.AppID)}`],
      ["Access request", `#${text(m.AccessRequestID)}`],
      ["By user", `#${text(m.ByUser)}`],
    ],
    path: `/admin/apps/${text(m.AppID)}`,
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
    path: `/admin/organisations/${text(m.ID)}`,
  }),
  OrganisationRequestCreated: (m) => organisationRequest(m, "New organisation request"),
  OrganisationRequestApproved: (m) => ({
    sentence: `Organisation request approved for ${person(m)}`,
    fields: userFields(m),
    path: `/admin/users/${text(m.ID)}`,
  }),
  OrganisationRequestRejected: (m) => organisationRequest(m, "Organisation request rejected:"),
  RegisterInvite: (m) => ({
    sentence: `Registration invite${m.Email ? ` to ${text(m.Email)}` : ""}`,
    fields: Object.entries(m)
      .slice(0, 6)
      .map(([k, v]) => [k, list(v)]),
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

function summarise(type: string, message: Message, time: string): Summary {
  const describe =
    SUMMARIES[type] ??
    ((m: Message) => ({
      sentence: `${type} event`,
      fields: Object.entries(m)
        .slice(0, 6)
        .map(([k, v]) => [k, list(v)] as [string, string]),
    }));
  return { ...describe(message), time };
}

// --- escaping, per tool ------------------------------------------------------------------

/** "@channel", "@here", "@everyone" written so no tool reads them as a mention. */
const noMassMention = (s: string) => s.replace(/@(channel|here|everyone)/gi, "@\u200b$1");

/** Slack mrkdwn: &, < and > are the only control characters (<!here>, <@U123>, <url|text>). */
export const slackEscape = (s: string) => noMassMention(s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"));

/** Markdown (Discord, Adaptive Cards): a backslash before every character that formats. */
export const markdownEscape = (s: string) => noMassMention(s.replace(/[\\`*_~|>#[\]()<]/g, "\\$&"));

// --- the three tools ---------------------------------------------------------------------

const RENDER: Record<Exclude<Format, "raw">, (s: Summary, link?: string) => unknown> = {
  slack: (s, link) => ({
    text: slackEscape(s.sentence),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${slackEscape(s.sentence)}*` } },
      ...(s.fields.length
        ? [{ type: "section", fields: s.fields.slice(0, 10).map(([k, v]) => ({ type: "mrkdwn", text: `*${slackEscape(k)}*\n${slackEscape(v)}` })) }]
        : []),
      { type: "context", elements: [{ type: "mrkdwn", text: link ? `${slackEscape(s.time)} · <${link}|Open in the portal>` : slackEscape(s.time) }] },
    ],
  }),
  teams: (s, link) => ({
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: markdownEscape(s.sentence), wrap: true, weight: "Bolder" },
            { type: "FactSet", facts: s.fields.map(([k, v]) => ({ title: markdownEscape(k), value: markdownEscape(v) })) },
            { type: "TextBlock", text: markdownEscape(s.time), wrap: true, isSubtle: true, size: "Small" },
          ],
          ...(link ? { actions: [{ type: "Action.OpenUrl", title: "Open in the portal", url: link }] } : {}),
        },
      },
    ],
  }),
  discord: (s, link) => ({
    content: markdownEscape(s.sentence),
    embeds: [
      {
        title: markdownEscape(s.sentence).slice(0, 256),
        ...(link ? { url: link } : {}),
        fields: s.fields
          .slice(0, 25)
          .map(([k, v]) => ({ name: markdownEscape(k).slice(0, 256), value: markdownEscape(v).slice(0, 1024) || "?", inline: true })),
        ...(Number.isNaN(Date.parse(s.time)) ? {} : { timestamp: new Date(s.time).toISOString() }),
      },
    ],
    // Belt and braces: even an unescaped mention pings nobody.
    allowed_mentions: { parse: [] },
  }),
};

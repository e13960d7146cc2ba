/**
 * Chat formats (contract: Routing): the delivery's body becomes a message a person reads,
 * in Slack's, Microsoft Teams' (Workflows, one Adaptive Card) or Discord's incoming-webhook
 * format: one sentence of what happened, the key fields, the time, and with PORTAL_URL a
 * link to the portal's admin page for it. Every value the portal supplied is rendered as
 * plain text (src/routing/plain-text.ts: one line, no bidi controls, no mention or link),
 * escaped for the tool, and every part of the message is kept within the tool's documented
 * limits (`SLACK`, `DISCORD`, `TEAMS` below), cut on a character boundary with "…".
 */
import { cutToFit, displayText, plainText } from "./plain-text";

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
  const parsed: unknown = JSON.parse(body);
  const event = (isRecord(parsed) ? parsed : {}) as { Event?: unknown; Message?: unknown; Timestamp?: unknown };
  const summary = summarise(displayText(event.Event), isRecord(event.Message) ? event.Message : {}, plainText(displayText(event.Timestamp)));
  const link = portalUrl && summary.path ? `${portalUrl.replace(/\/+$/, "")}${summary.path}` : undefined;
  return JSON.stringify(RENDER[format](summary, link));
}

// --- what each event says ----------------------------------------------------------------

const isRecord = (v: unknown): v is Message => typeof v === "object" && v !== null && !Array.isArray(v);
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

function summarise(type: string, message: Message, time: string): Summary {
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

// --- escaping, per tool ------------------------------------------------------------------
// Each escape works on one character (grapheme) of text that `plainText` already made
// plain, so `cutToFit` can cut between escapes, never inside one.

// Slack mrkdwn has no escape for * _ ~ ` (its maintainers: "the backslash won't escape the
// formatting", slackhq/slack-api-docs#34): they are written as lookalikes that format
// nothing. An underscore inside a word formats nothing, so it stays (emails, user names).
const SLACK_LOOKALIKES: Record<string, string> = { "*": "\u2217", "~": "\u223C", "`": "\u02CB", _: "\uFF3F" };

/**
 * Slack mrkdwn: &, < and > as entities, the only escapes Slack reads
 * (https://docs.slack.dev/messaging/formatting-message-text#escaping), and the formatting
 * characters as lookalikes. `chunk` is `whole.slice(at, at + chunk.length)`: an underscore
 * is kept where it has a letter or digit on both sides in `whole`.
 */
export const slackEscape = (chunk: string, at = 0, whole = chunk) =>
  chunk.replace(/[&<>*~`_]/g, (c, i: number) => {
    if (c === "&") return "&amp;";
    if (c === "<") return "&lt;";
    if (c === ">") return "&gt;";
    if (c === "_" && /\w/.test(whole[at + i - 1] ?? "") && /\w/.test(whole[at + i + 1] ?? "")) return c;
    return SLACK_LOOKALIKES[c]!;
  });

/**
 * Markdown (Discord, Adaptive Cards): a backslash before every character that formats, and
 * before a list marker that starts the text (`at`: where `chunk` starts in it).
 */
export const markdownEscape = (chunk: string, at = 0) => chunk.replace(/[\\`*_~|>#[\]()<]/g, "\\$&").replace(/^[-+]/, (m) => (at === 0 ? `\\${m}` : m));

// --- the three tools' limits -------------------------------------------------------------

/**
 * Slack Block Kit, in characters (counted here as UTF-16 code units, never fewer):
 * section text 3000 and at most 10 fields of 2000 each
 * (https://docs.slack.dev/reference/block-kit/blocks/section-block); a context block's
 * text 3000 (https://docs.slack.dev/reference/block-kit/blocks/context-block); the
 * message's `text` 40,000, of which we use far less as the notification
 * (https://docs.slack.dev/reference/methods/chat.postMessage#truncating).
 */
export const SLACK = { sectionText: 3000, fields: 10, fieldText: 2000, contextText: 3000, text: 3000, label: 100 } as const;

/**
 * Discord, in characters: `content` 2000 (https://discord.com/developers/docs/resources/webhook#execute-webhook);
 * an embed's title 256, description 4096, at most 25 fields, a field's name 256 and value
 * 1024, footer 2048, and 6000 for all of an embed's text together
 * (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
 */
export const DISCORD = { content: 2000, title: 256, fields: 25, fieldName: 256, fieldValue: 1024, embedTotal: 6000, label: 64 } as const;

/**
 * Microsoft Teams (Workflows, one Adaptive Card): a message of at most about 28 KB
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook#limitations).
 * No per-element limits are documented, so each part gets a share that keeps the whole
 * card under 28,000 bytes even if every character took 3 bytes: (1500 + 10 × (80 + 500) +
 * 100) × 3 = 22,200, plus the card's own ~1 KB.
 */
export const TEAMS = { sentence: 1500, facts: 10, factTitle: 80, factValue: 500, time: 100, payloadBytes: 28_000 } as const;

// --- the three tools ---------------------------------------------------------------------

const slack = (s: string, max: number) => cutToFit(s, max, (chunk, at) => slackEscape(chunk, at, s));
const markdown = (s: string, max: number) => cutToFit(s, max, markdownEscape);
/** A mrkdwn text object; `verbatim`: Slack turns no URL, channel name or mention in it into a link or ping. */
const mrkdwn = (text: string) => ({ type: "mrkdwn", text, verbatim: true });

const RENDER: Record<Exclude<Format, "raw">, (s: Summary, link?: string) => unknown> = {
  slack: (s, link) => {
    const fields = s.fields.slice(0, SLACK.fields).map(([k, v]) => {
      const label = `*${slack(k, SLACK.label)}*\n`;
      return mrkdwn(label + slack(v, SLACK.fieldText - label.length));
    });
    const time = slack(s.time, 100);
    return {
      text: slack(s.sentence, SLACK.text),
      blocks: [
        { type: "section", text: mrkdwn(`*${slack(s.sentence, SLACK.sectionText - 2)}*`) },
        ...(fields.length ? [{ type: "section", fields }] : []),
        { type: "context", elements: [mrkdwn(link ? `${time} · <${link}|Open in the portal>` : time)] },
      ],
    };
  },
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
            { type: "TextBlock", text: markdown(s.sentence, TEAMS.sentence), wrap: true, weight: "Bolder" },
            {
              type: "FactSet",
              facts: s.fields.slice(0, TEAMS.facts).map(([k, v]) => ({ title: markdown(k, TEAMS.factTitle), value: markdown(v, TEAMS.factValue) })),
            },
            { type: "TextBlock", text: markdown(s.time, TEAMS.time), wrap: true, isSubtle: true, size: "Small" },
          ],
          ...(link ? { actions: [{ type: "Action.OpenUrl", title: "Open in the portal", url: link }] } : {}),
        },
      },
    ],
  }),
  discord: (s, link) => {
    const title = markdown(s.sentence, DISCORD.title);
    const shown = s.fields.slice(0, DISCORD.fields);
    const names = shown.map(([k]) => markdown(k, DISCORD.label) || "?");
    // The embed's 6000 are shared: the title and names first, the values split the rest.
    const share = Math.floor((DISCORD.embedTotal - title.length - names.reduce((n, name) => n + name.length, 0)) / Math.max(1, shown.length));
    return {
      content: markdown(s.sentence, DISCORD.content),
      embeds: [
        {
          title,
          ...(link ? { url: link } : {}),
          fields: shown.map(([, v], i) => ({ name: names[i], value: markdown(v, Math.min(DISCORD.fieldValue, share)) || "?", inline: true })),
          ...(Number.isNaN(Date.parse(s.time)) ? {} : { timestamp: new Date(s.time).toISOString() }),
        },
      ],
      // Belt and braces: even an unescaped mention pings nobody.
      allowed_mentions: { parse: [] },
    };
  },
};

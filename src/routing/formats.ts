/**
 * Chat formats (contract: Routing): the delivery's body becomes a message a person reads,
 * in Slack's, Microsoft Teams' (Workflows, one Adaptive Card) or Discord's incoming-webhook
 * format: one sentence of what happened, the key fields, the time, and with PORTAL_URL a
 * link to the portal's admin page for it. Every value the portal supplied is rendered as
 * plain text (src/routing/plain-text.ts: one line, no bidi controls, no mention or link),
 * escaped for the tool, and every part of the message is kept within the tool's documented
 * limits (`SLACK`, `DISCORD`, `TEAMS`, each in its tool's file), cut on a character
 * boundary with "…".
 */
import { discordMessage } from "./discord-format";
import { isRecord, type Summary, summarise } from "./event-summary";
import { displayText, plainText } from "./plain-text";
import { slackMessage } from "./slack-format";
import { teamsMessage } from "./teams-format";

export { DISCORD } from "./discord-format";
export { SLACK } from "./slack-format";
export { TEAMS } from "./teams-format";

/** The formats a channel may choose, "raw" (the event as the portal sent it) first. */
export const formatNames = ["raw", "slack", "teams", "discord"] as const;
export type Format = (typeof formatNames)[number];

/** The message for an event body (JSON text), or the body itself for "raw". */
export function renderBody(format: Format, body: string, portalUrl?: string): string {
  if (format === "raw") return body;
  const parsed: unknown = JSON.parse(body);
  const event = (isRecord(parsed) ? parsed : {}) as { Event?: unknown; Message?: unknown; Timestamp?: unknown };
  const summary = summarise(displayText(event.Event), isRecord(event.Message) ? event.Message : {}, plainText(displayText(event.Timestamp)));
  const link = portalUrl && summary.path ? `${portalUrl.replace(/\/+$/, "")}${summary.path}` : undefined;
  return JSON.stringify(RENDER[format](summary, link));
}

const RENDER: Record<Exclude<Format, "raw">, (s: Summary, link?: string) => unknown> = { slack: slackMessage, teams: teamsMessage, discord: discordMessage };

// Slack's format: mrkdwn escaping, Block Kit's limits, and the message.
import type { Summary } from "./event-summary";
import { cutToFit } from "./plain-text";

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
 * Slack Block Kit, in characters (counted here as UTF-16 code units, never fewer):
 * section text 3000 and at most 10 fields of 2000 each
 * (https://docs.slack.dev/reference/block-kit/blocks/section-block); a context block's
 * text 3000 (https://docs.slack.dev/reference/block-kit/blocks/context-block); the
 * message's `text` 40,000, of which we use far less as the notification
 * (https://docs.slack.dev/reference/methods/chat.postMessage#truncating).
 */
export const SLACK = { sectionText: 3000, fields: 10, fieldText: 2000, contextText: 3000, text: 3000, label: 100 } as const;

const slack = (s: string, max: number) => cutToFit(s, max, (chunk, at) => slackEscape(chunk, at, s));
/** A mrkdwn text object; `verbatim`: Slack turns no URL, channel name or mention in it into a link or ping. */
const mrkdwn = (text: string) => ({ type: "mrkdwn", text, verbatim: true });

export function slackMessage(s: Summary, link?: string) {
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
}

// Discord's format: its limits and the message, one embed.
import type { Summary } from "./event-summary";
import { markdown } from "./markdown-escape";

/**
 * Discord, in characters: `content` 2000 (https://discord.com/developers/docs/resources/webhook#execute-webhook);
 * an embed's title 256, description 4096, at most 25 fields, a field's name 256 and value
 * 1024, footer 2048, and 6000 for all of an embed's text together
 * (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
 */
export const DISCORD = { content: 2000, title: 256, fields: 25, fieldName: 256, fieldValue: 1024, embedTotal: 6000, label: 64 } as const;

export function discordMessage(s: Summary, link?: string) {
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
}

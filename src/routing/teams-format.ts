// Microsoft Teams' format (Workflows, one Adaptive Card): its limits and the message.
import type { Summary } from "./event-summary";
import { markdown } from "./markdown-escape";

/**
 * Microsoft Teams (Workflows, one Adaptive Card): a message of at most about 28 KB
 * (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook#limitations).
 * No per-element limits are documented, so each part gets a share that keeps the whole
 * card under 28,000 bytes even if every character took 3 bytes: (1500 + 10 × (80 + 500) +
 * 100) × 3 = 22,200, plus the card's own ~1 KB.
 */
export const TEAMS = { sentence: 1500, facts: 10, factTitle: 80, factValue: 500, time: 100, payloadBytes: 28_000 } as const;

export const teamsMessage = (s: Summary, link?: string) => ({
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
});

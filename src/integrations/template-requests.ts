import type { EventType } from "../portal/catalog";
import { sampleEvent } from "../portal/samples";
import { templates } from "./templates";
import { runTransform } from "./transform";
import { expandUrl } from "./url-fields";

/** The fixed inputs of the golden requests: the same in Node (npm run golden:templates) and in the Workers pool. */
export const GOLDEN = {
  now: new Date("2026-01-02T03:04:05Z"),
  eventId: "01940000-0000-7000-8000-000000000001",
  webhookId: "golden",
  portalUrl: "https://portal.example.com",
};

/**
 * What each template sends for each of its events' samples: `{ID: {Event: {Method, URL,
 * Body}}}`, the body parsed. The golden file test/fixtures/golden/templates.json holds it.
 */
export async function templateRequests() {
  const out: Record<string, Record<string, { Method: string; URL: string; Body: unknown }>> = {};
  for (const template of templates) {
    out[template.ID] = {};
    for (const type of template.Events) {
      const event = sampleEvent(type as EventType, GOLDEN.now);
      const body = await runTransform(`golden/${template.ID}`, template.Transform.Body, event, GOLDEN);
      if (!body.ok || body.body === null) throw new Error(`${template.ID} ${type}: ${body.ok ? "nothing to send" : body.message}`);
      const url = expandUrl(template.URL, JSON.parse(event));
      if (!url.ok) throw new Error(`${template.ID} ${type}: ${url.message}`);
      out[template.ID]![type] = { Method: template.Method, URL: url.url, Body: JSON.parse(body.body) };
    }
  }
  return out;
}

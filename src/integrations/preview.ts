import { USER_AGENT } from "../http/headers";
import { MASK } from "../security/mask";
import { runTransform } from "./transform";
import { expandUrl, hasPlaceholders } from "./url-fields";

/** One event to preview a channel's request with: the newest stored event of a type, or its sample. */
export interface PreviewEvent {
  type: string;
  /** The stored event's id, or null for the type's sample. */
  id: string | null;
  body: string;
}

export interface PreviewRequest {
  Event: string;
  EventID: string | null;
  Method: string;
  URL: string | null;
  Headers: [string, string][];
  Body: string | null;
  /** Why it would not be sent (a transform error, a missing URL field), or that nothing would be. */
  Error: string | null;
}

/**
 * The request a channel's settings would send for each event, before they are saved: the
 * URL with its placeholders filled in, the headers with every secret masked (custom
 * header values, the signature, the Authorization value), and the body the Transform
 * writes (or the portal's bytes). Nothing is sent and no token is asked for.
 */
export async function previewRequests(
  settings: { URL: string; Method: string; Transform: { Body: string } | null; Auth: { Type: string } | null; HeaderNames: string[] },
  events: PreviewEvent[],
  portalUrl: string | undefined,
): Promise<PreviewRequest[]> {
  return Promise.all(
    events.map(async (event): Promise<PreviewRequest> => {
      const eventId = event.id ?? "preview";
      const out: PreviewRequest = { Event: event.type, EventID: event.id, Method: settings.Method, URL: null, Headers: [], Body: null, Error: null };
      if (hasPlaceholders(settings.URL)) {
        const url = expandUrl(settings.URL, JSON.parse(event.body));
        if (!url.ok) return { ...out, Error: url.message };
        out.URL = url.url;
      } else out.URL = settings.URL;
      if (settings.Transform) {
        const result = await runTransform("preview", settings.Transform.Body, event.body, { eventId, webhookId: "preview", portalUrl });
        if (!result.ok) return { ...out, Error: `Transform: ${result.message}` };
        if (result.body === null) return { ...out, Error: "Transform: nothing to send (the delivery would end cancelled)" };
        out.Body = result.body;
      } else out.Body = event.body;
      out.Headers = [
        ...settings.HeaderNames.map((name): [string, string] => [name, MASK]),
        ...(settings.Auth ? [["Authorization", settings.Auth.Type === "basic" ? `Basic ${MASK}` : `Bearer ${MASK}`] as [string, string]] : []),
        ["Content-Type", "application/json"],
        ["User-Agent", USER_AGENT],
        ["webhook-id", eventId],
        ["webhook-timestamp", String(Math.floor(Date.now() / 1000))],
        ["webhook-signature", `v1,${MASK}`],
      ];
      return out;
    }),
  );
}

import type { EventType } from "../../portal/catalog";

/**
 * A ready-made integration (`GET /portal-api/templates`): a channel's fields for one
 * target's API, to create a channel from after replacing the host and filling the auth
 * and headers it names. `URL` holds placeholders (src/integrations/url-fields.ts) and a
 * host to replace (`example` in its name); `Transform.Body` is JSONata
 * (src/integrations/transform.ts) that writes the target's documented body for each of
 * `Events`.
 */
export interface Template {
  ID: string;
  Name: string;
  Description: string;
  Events: EventType[];
  Method: "POST" | "PUT" | "PATCH";
  URL: string;
  Transform: { Body: string };
  Auth: { Type: "basic" | "oauth2" } | null;
  /** Names of the custom headers the target needs (their values are the admin's). */
  Headers: string[];
}

/**
 * JSONata for "the portal's admin page for this", when `PORTAL_URL` is set (the same
 * paths the chat formats link to, src/routing/event-summary.ts); undefined otherwise.
 */
export const PORTAL_LINK = `$portalLink := function($path) { $portalUrl ? $replace($portalUrl, /\\/+$/, "") & $path };`;

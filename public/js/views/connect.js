import { api } from "../api.js";
import { splitEventTypes } from "../api-facts.js";
import { secretField } from "../controls.js";
import { copyButton, h, mount } from "../dom.js";
import { time } from "../times.js";

/**
 * "Connect your portal": the exact settings to paste into the portal's webhook form, each
 * with a copy button, and whether the portal has reached the dispatcher yet (its Test
 * Connection, a refused token, the last event), watched while the page is open.
 */
export async function connectPage() {
  const [status, types] = await Promise.all([api("GET", "/intake"), api("GET", "/event-types")]);
  const portalTypes = splitEventTypes(types).portal;

  const token = secretField({
    id: "intake-token",
    label: "Header value",
    mask: "Bearer ••••••••••••••••",
    load: async () => (await api("GET", "/intake/token")).Token,
    format: (secret) => `Bearer ${secret}`,
  });

  const state = h("div", { id: "connection-state", role: "status", "aria-live": "polite" });
  const show = (s) =>
    mount(
      state,
      s.LastTestConnectionAt
        ? h("p", { class: "state ok" }, "✓ The portal's Test Connection arrived ", time(s.LastTestConnectionAt), ".")
        : h("p", { class: "state waiting" }, "Waiting for the portal's Test Connection: save the webhook in the portal and press Test Connection."),
      s.LastEventAt
        ? h("p", { class: "state ok" }, "✓ Last event: ", h("strong", {}, s.LastEventType), ", ", time(s.LastEventAt), ".")
        : h("p", { class: "state waiting" }, "No event received yet."),
      s.LastRefusedAt && (!s.LastEventAt || s.LastRefusedAt > s.LastEventAt)
        ? h(
            "p",
            { class: "state bad" },
            "An event was refused for a missing or wrong token ",
            time(s.LastRefusedAt),
            ": check the Authorization header in the portal.",
          )
        : null,
    );
  show(status);
  const timer = setInterval(
    () =>
      api("GET", "/intake")
        .then(show)
        .catch(() => {}),
    2000,
  );

  /** One setting to paste: its value, and its copy button (the token's: Reveal, then Copy). */
  const setting = (label, value, ...controls) =>
    h(
      "div",
      { class: "setting" },
      h("dt", {}, label),
      h("dd", {}, typeof value === "string" ? h("code", {}, value) : value, controls.length ? controls : copyButton(label, value)),
    );

  const element = h(
    "section",
    {},
    h("div", { class: "page-head" }, h("h1", {}, "Connect your portal")),
    h(
      "div",
      { class: "card" },
      h("h2", {}, "1. Create a webhook channel in the portal"),
      // The portal's own words (its "Configure webhooks" page): a webhook channel, its Target URL, HTTP method, headers.
      h("p", {}, "In the Tyk Enterprise Developer Portal, open Settings → Webhooks, create a webhook channel, and fill it in with these:"),
      h(
        "dl",
        { class: "settings" },
        setting("Target URL", status.URL),
        setting("Method", "POST"),
        setting("Header name", "Authorization"),
        setting("Header value", token.value, token.reveal, token.copy),
      ),
      h("p", {}, `Events: tick all ${portalTypes.length}. Channels here choose which of them each target gets.`),
      h(
        "ul",
        { class: "event-list small" },
        portalTypes.map((t) => h("li", {}, t)),
      ),
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, "2. Check that it arrives"),
      state,
      h("p", { class: "muted small" }, "Then create a channel for each system that should receive the events."),
    ),
  );
  return { element, cleanup: () => clearInterval(timer) };
}

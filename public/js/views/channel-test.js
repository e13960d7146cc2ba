// The channel page's test group: Test Connection, and a test event of any type (sent, or only previewed).

import { api, humanError } from "../api.js";
import { whileBusy } from "../controls.js";
import { h, mount, prettyJson } from "../dom.js";
import { connectionTest } from "./connection-test.js";

/** The Test Connection card: a HEAD to the Target URL, as the portal's button sends it. */
export function connectionCard(id) {
  return h(
    "div",
    { class: "card" },
    h("h3", {}, "Test Connection"),
    h("p", { class: "hint" }, "A HEAD request to the Target URL, without the custom headers, as the portal's button sends it."),
    connectionTest(id),
  );
}

/** "Send test event": a type's sample payload through the channel, as a delivery goes; or only a preview of it. */
export function testEventCard(id, types, format) {
  const type = h(
    "select",
    { id: "test-event-type" },
    types.map((t) => h("option", { value: t }, t)),
  );
  const result = h("div", { class: "test-event-result", "aria-live": "polite" });
  const showFailure = (err) => result.replaceChildren(h("p", { class: "test-result fail" }, humanError(err)));
  const send = h(
    "button",
    {
      type: "submit",
      class: "secondary",
    },
    "Send test event",
  );
  const preview = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () =>
        whileBusy(
          preview,
          async () => {
            const r = await api("POST", "/routing/preview", { Event: type.value, Format: format });
            result.replaceChildren(
              h("p", { class: "muted small" }, `What this channel sends for a ${type.value} (${format}):`),
              h("pre", { class: "message-preview", tabindex: 0 }, prettyJson(JSON.parse(r.Body))),
            );
          },
          showFailure,
        ),
    },
    "Preview",
  );
  return h(
    "form",
    {
      class: "card",
      onsubmit: (event) => {
        event.preventDefault();
        whileBusy(
          send,
          async () => {
            result.replaceChildren(h("p", { class: "muted" }, "Sending…"));
            const r = await api("POST", `/webhooks/${id}/test-event`, { Event: type.value });
            // mount() leaves out an absent response body; replaceChildren(null) would print "null".
            mount(
              result,
              h(
                "p",
                { class: `test-result ${r.Success ? "ok" : "fail"}` },
                r.Success ? `Delivered: ${r.StatusCode} in ${r.DurationMs} ms` : `Failed: ${r.Error} (${r.DurationMs} ms)`,
              ),
              r.ResponseBody ? h("pre", { tabindex: 0 }, r.ResponseBody) : null,
            );
          },
          showFailure,
        );
      },
    },
    h("h3", {}, "Send a test event"),
    h("p", { class: "hint" }, "The type's sample payload, signed and sent with the custom headers, as a delivery would go. Nothing is recorded."),
    h("label", { for: "test-event-type" }, "Event type"),
    type,
    h("div", { class: "inline" }, send, preview),
    result,
  );
}

// The channel page's recovery card: send again the failed deliveries since a time, counted first.

import { api, humanError } from "../api.js";
import { whileBusy } from "../controls.js";
import { confirmDialog, h } from "../dom.js";
import { parseLocalText, timeHint, timeInput } from "../times.js";

/** Recover: count the failed deliveries since a time, ask, then queue them again. */
export function recoverCard(id, onRecovered) {
  const since = timeInput("recover-since", Date.now() - 86_400_000, { required: true });
  const result = h("output", { "aria-live": "polite", class: "muted" });
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const at = parseLocalText(since.value);
        if (!at) {
          result.textContent = "Write the time as YYYY-MM-DD HH:MM, e.g. 2026-11-29 09:30.";
          since.focus();
          return;
        }
        const from = at.toISOString();
        await whileBusy(
          event.submitter,
          async () => {
            // Count first, then ask.
            const { WouldRequeue } = await api("POST", "/deliveries/recover", { Since: from, WebhookID: id, DryRun: true });
            if (WouldRequeue === 0) {
              result.textContent = "No failed deliveries since then.";
              return;
            }
            const what = `${WouldRequeue} failed ${WouldRequeue === 1 ? "delivery" : "deliveries"}`;
            if (!(await confirmDialog(`Send again ${what}? Each starts a fresh retry schedule.`, `Recover ${WouldRequeue}`))) return;
            const { Requeued } = await api("POST", `/webhooks/${id}/recover`, { Since: from });
            result.textContent = `${Requeued} failed ${Requeued === 1 ? "delivery" : "deliveries"} queued again.`;
            onRecovered();
          },
          (err) => (result.textContent = humanError(err)),
        );
      },
    },
    h("h3", {}, "Recover"),
    h("p", { class: "hint" }, "Send again every failed delivery created since a time, with a fresh retry schedule."),
    h("label", { for: "recover-since" }, "Recover failed since"),
    since,
    timeHint("recover-since"),
    h("div", { class: "inline" }, h("button", { type: "submit", class: "secondary" }, "Recover…"), result),
  );
}

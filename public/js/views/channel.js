import { api } from "../api.js";
import { badge, confirmDialog, h, time, toast } from "../dom.js";
import { connectionTest } from "./connection-test.js";
import { deliveryTable } from "./deliveries.js";

const STATUSES = ["pending", "retrying", "succeeded", "failed", "cancelled"];

/** One channel: its settings, Test Connection, signing secret, recovery and deliveries. */
export async function channelPage(id) {
  const channel = await api("GET", `/webhooks/${id}`);

  const statusFilter = h("select", { id: "status-filter" }, h("option", { value: "" }, "All"), STATUSES.map((s) => h("option", { value: s }, s)));
  const deliveries = deliveryTable({
    load: () => api("GET", `/webhooks/${id}/deliveries?per_page=50${statusFilter.value ? `&status=${statusFilter.value}` : ""}`),
  });
  statusFilter.addEventListener("change", () => deliveries.refresh());
  await deliveries.refresh();
  // Watch deliveries change while the page is open.
  const timer = setInterval(() => deliveries.refresh().catch(() => {}), 2000);

  const element = h(
    "section",
    {},
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, channel.Name), h("p", { class: "url muted" }, `${channel.Method} ${channel.URL}`)),
      h("a", { class: "button secondary", href: `#/channels/${id}/edit` }, "Edit"),
    ),
    h("div", { class: "grid" },
      h("div", { class: "card" },
        h("h2", {}, "Settings"),
        h("dl", {},
          h("dt", {}, "State"),
          h("dd", {}, channel.Enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", channel.DisabledReason ?? "")),
          h("dt", {}, "Timeout"), h("dd", {}, `${channel.Timeout} s`),
          h("dt", {}, "Events"), h("dd", {}, channel.Events.filter((t) => !t.startsWith("Dispatcher.")).length === 14 ? ["All 14 portal event types", ...channel.Events.filter((t) => t.startsWith("Dispatcher."))].join(", ") : channel.Events.join(", ")),
          h("dt", {}, "Headers"), h("dd", {}, channel.Headers.length ? channel.Headers.map((x) => x.Name).join(", ") : "none"),
        ),
        connectionTest(id),
      ),
      secretCard(id),
      recoverCard(id, () => deliveries.refresh()),
    ),
    h("div", { class: "card" },
      h("div", { class: "page-head" },
        h("h2", {}, "Deliveries"),
        h("div", { class: "inline" }, h("label", { for: "status-filter" }, "Status"), statusFilter),
      ),
      deliveries.element,
    ),
  );
  return { element, cleanup: () => clearInterval(timer) };
}

function secretCard(id) {
  const value = h("code", { id: "secret-value", class: "secret" }, "whsec_••••••••••••••••");
  const previous = h("p", { class: "muted small" });
  let revealed = null;

  const show = async () => {
    const s = await api("GET", `/webhooks/${id}/secret`);
    revealed = s.Secret;
    value.textContent = s.Secret;
    previous.textContent = s.PreviousSecret ? "The previous secret also signs until " : "";
    if (s.PreviousSecret) previous.append(time(s.PreviousSecretExpiresAt), ".");
    reveal.textContent = "Hide";
  };
  const reveal = h("button", {
    type: "button",
    class: "secondary small",
    onclick: async () => {
      if (revealed) {
        revealed = null;
        value.textContent = "whsec_••••••••••••••••";
        reveal.textContent = "Reveal";
      } else await show();
    },
  }, "Reveal");
  const copy = h("button", {
    type: "button",
    class: "secondary small",
    onclick: async () => {
      const s = revealed ?? (await api("GET", `/webhooks/${id}/secret`)).Secret;
      try {
        await navigator.clipboard.writeText(s);
        toast("Secret copied.", "success");
      } catch {
        toast("Copying is not allowed here; reveal the secret and copy it by hand.", "error");
      }
    },
  }, "Copy");
  const rotate = h("button", {
    type: "button",
    class: "secondary small",
    onclick: async () => {
      if (!(await confirmDialog("Rotate the signing secret? The current one keeps signing beside the new one for 24 hours.", "Rotate"))) return;
      await api("POST", `/webhooks/${id}/secret/rotate`);
      toast("Secret rotated.", "success");
      await show();
    },
  }, "Rotate");

  return h("div", { class: "card" },
    h("h2", {}, "Signing secret"),
    h("p", { class: "hint" }, "Receivers verify webhook-signature with it (Standard Webhooks)."),
    value,
    h("div", { class: "inline" }, reveal, copy, rotate),
    previous,
  );
}

function recoverCard(id, onRecovered) {
  const since = h("input", { id: "recover-since", type: "datetime-local", required: true });
  const day = new Date(Date.now() - 86400_000);
  since.value = new Date(day.getTime() - day.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  const result = h("output", { "aria-live": "polite", class: "muted" });
  return h("form", {
    class: "card",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const { Requeued } = await api("POST", `/webhooks/${id}/recover`, { Since: new Date(since.value).toISOString() });
        result.textContent = `${Requeued} failed ${Requeued === 1 ? "delivery" : "deliveries"} queued again.`;
        onRecovered();
      } catch (err) {
        result.textContent = err.message;
      }
    },
  },
    h("h2", {}, "Recover"),
    h("p", { class: "hint" }, "Send again every failed delivery created since a time, with a fresh retry schedule."),
    h("label", { for: "recover-since" }, "Recover failed since"),
    since,
    h("div", { class: "inline" }, h("button", { type: "submit", class: "secondary" }, "Recover"), result),
  );
}

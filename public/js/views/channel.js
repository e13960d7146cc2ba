import { api, apiPage, humanError } from "../api.js";
import { badge, confirmDialog, h, prettyJson, time, toast, withQuery } from "../dom.js";
import { connectionTest } from "./connection-test.js";
import { deliveryTable } from "./deliveries.js";
import { offerReplayAfterEnable, replayCard } from "./replay.js";

const STATUSES = ["pending", "retrying", "held", "succeeded", "failed", "cancelled"];

/** One channel: its state and actions, settings, tests, signing secret, recovery and deliveries. */
export async function channelPage(id) {
  const [channel, types, stats, held] = await Promise.all([
    api("GET", `/webhooks/${id}`),
    api("GET", "/event-types"),
    api("GET", `/stats?webhook_id=${encodeURIComponent(id)}`),
    // The oldest held delivery, and whether there are more than a page of them.
    api("GET", `/deliveries?webhook_id=${encodeURIComponent(id)}&status=held&per_page=100`),
  ]);

  const statusFilter = h(
    "select",
    { id: "status-filter" },
    h("option", { value: "" }, "All"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const deliveries = deliveryTable({
    load: (cursor, perPage) =>
      apiPage(withQuery(`/webhooks/${id}/deliveries`, { per_page: String(perPage), status: statusFilter.value, cursor: cursor ?? "" })),
  });
  statusFilter.addEventListener("change", () => deliveries.reset());
  await deliveries.refresh();
  // Watch deliveries change while the page is open; rows update in place, focus stays.
  const timer = setInterval(() => deliveries.refresh().catch(() => {}), 2000);

  const element = h(
    "section",
    {},
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", {}, channel.Name), h("p", { class: "url muted" }, `${channel.Method} ${channel.URL}`)),
      h(
        "div",
        { class: "actions" },
        pausedToggle(channel),
        enabledToggle(channel),
        h("a", { class: "button secondary", href: `#/channels/${id}/edit` }, "Edit"),
      ),
    ),
    channel.Paused ? heldNotice(channel, held, stats.RetentionDays) : null,
    h(
      "div",
      { class: "grid" },
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Settings"),
        h(
          "dl",
          {},
          h("dt", {}, "State"),
          h("dd", {}, channel.Enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", channel.DisabledReason ?? "")),
          h("dt", {}, "Flow"),
          h("dd", {}, channel.Paused ? badge("paused") : "sending", channel.RateLimit ? `, at most ${channel.RateLimit} a second` : ", no rate limit"),
          h("dt", {}, "Routing"),
          h(
            "dd",
            {},
            channel.Format === "raw" ? "raw JSON" : `${channel.Format} message`,
            channel.Filter ? h("span", {}, ", filter ", h("code", {}, JSON.stringify(channel.Filter))) : ", no filter",
          ),
          h("dt", {}, "Timeout"),
          h("dd", {}, `${channel.Timeout} s`),
          h("dt", {}, "Events"),
          h("dd", {}, describeEvents(channel.Events)),
          h("dt", {}, "Headers"),
          h("dd", {}, channel.Headers.length ? channel.Headers.map((x) => x.Name).join(", ") : "none"),
        ),
        connectionTest(id),
      ),
      testEventCard(id, types, channel.Format),
      secretCard(id),
      recoverCard(id, () => deliveries.refresh()),
      replayCard(channel, () => deliveries.refresh()),
    ),
    h(
      "div",
      { class: "card" },
      h("div", { class: "page-head" }, h("h2", {}, "Deliveries"), h("div", { class: "inline" }, h("label", { for: "status-filter" }, "Status"), statusFilter)),
      deliveries.element,
    ),
  );
  return { element, cleanup: () => clearInterval(timer) };
}

const describeEvents = (events) => {
  const portal = events.filter((t) => !t.startsWith("Dispatcher."));
  const alerts = events.filter((t) => t.startsWith("Dispatcher."));
  return [portal.length === 14 ? "All 14 portal event types" : portal.join(", "), ...alerts].filter(Boolean).join(", ");
};

/** What a pause is holding, and how long before the oldest of it would be purged. */
function heldNotice(channel, held, retentionDays) {
  const oldest = held.at(-1);
  const count = held.length === 100 ? "100 or more deliveries" : `${held.length} ${held.length === 1 ? "delivery" : "deliveries"}`;
  const purgeAt = oldest ? new Date(Date.parse(oldest.CreatedAt) + retentionDays * 86_400_000) : null;
  const soon = purgeAt && purgeAt.getTime() - Date.now() < 3 * 86_400_000;
  return h(
    "div",
    { class: `notice ${soon ? "warn" : ""}`, role: "status" },
    h("strong", {}, "Paused. "),
    `${count} held, sent when you resume (oldest first${channel.RateLimit ? `, at most ${channel.RateLimit} a second` : ""}). `,
    purgeAt ? ["Held deliveries are purged like any other after ", retentionDays, " days: the oldest on ", time(purgeAt.toISOString()), "."] : null,
  );
}

/**
 * A button that flips one of the channel's flags with a PATCH, then shows the page again:
 * Pause/Resume (held deliveries are sent on resume, oldest first) and Disable/Enable
 * (disabling cancels what waits, so it asks first).
 */
function flagToggle(channel, field, { on, off, said, ask, after }) {
  const value = channel[field];
  return h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        if (ask && !(await ask(value))) return;
        try {
          await api("PATCH", `/webhooks/${channel.ID}`, { [field]: !value });
          toast(said(!value), "success");
          if (after) await after(!value);
          window.dispatchEvent(new HashChangeEvent("hashchange"));
        } catch (err) {
          toast(humanError(err), "error");
        }
      },
    },
    value ? on : off,
  );
}

const pausedToggle = (channel) =>
  flagToggle(channel, "Paused", {
    on: "Resume",
    off: "Pause",
    said: (paused) => (paused ? "Paused: new deliveries are held until you resume." : "Resumed: held deliveries are being sent, oldest first."),
  });

const enabledToggle = (channel) =>
  flagToggle(channel, "Enabled", {
    on: "Disable",
    off: "Enable",
    said: (enabled) => (enabled ? "Channel enabled." : "Channel disabled."),
    ask: (enabled) => !enabled || confirmDialog(`Disable “${channel.Name}”? Deliveries waiting to be sent to it are cancelled.`, "Disable"),
    // Enabled again: offer what came while it was disabled, with the count.
    after: (enabled) => enabled && offerReplayAfterEnable(channel),
  });

/** "Send test event": a type's sample payload through the channel, as a delivery goes; or only a preview of it. */
function testEventCard(id, types, format) {
  const type = h(
    "select",
    { id: "test-event-type" },
    types.map((t) => h("option", { value: t }, t)),
  );
  const result = h("div", { class: "test-event-result", "aria-live": "polite" });
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
      onclick: async () => {
        try {
          const r = await api("POST", "/routing/preview", { Event: type.value, Format: format });
          result.replaceChildren(
            h("p", { class: "muted small" }, `What this channel sends for a ${type.value} (${format}):`),
            h("pre", { class: "message-preview", tabindex: 0 }, prettyJson(JSON.parse(r.Body))),
          );
        } catch (err) {
          result.replaceChildren(h("p", { class: "test-result fail" }, humanError(err)));
        }
      },
    },
    "Preview",
  );
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        send.disabled = true;
        result.replaceChildren(h("p", { class: "muted" }, "Sending…"));
        try {
          const r = await api("POST", `/webhooks/${id}/test-event`, { Event: type.value });
          result.replaceChildren(
            h(
              "p",
              { class: `test-result ${r.Success ? "ok" : "fail"}` },
              r.Success ? `Delivered: ${r.StatusCode} in ${r.DurationMs} ms` : `Failed: ${r.Error} (${r.DurationMs} ms)`,
            ),
            r.ResponseBody ? h("pre", { tabindex: 0 }, r.ResponseBody) : null,
          );
        } catch (err) {
          result.replaceChildren(h("p", { class: "test-result fail" }, humanError(err)));
        } finally {
          send.disabled = false;
        }
      },
    },
    h("h2", {}, "Send a test event"),
    h("p", { class: "hint" }, "The type's sample payload, signed and sent with the custom headers, as a delivery would go. Nothing is recorded."),
    h("label", { for: "test-event-type" }, "Event type"),
    type,
    h("div", { class: "inline" }, send, preview),
    result,
  );
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
  const reveal = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: async () => {
        if (revealed) {
          revealed = null;
          value.textContent = "whsec_••••••••••••••••";
          reveal.textContent = "Reveal";
        } else await show();
      },
    },
    "Reveal",
  );
  const copy = h(
    "button",
    {
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
    },
    "Copy",
  );
  const rotate = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: async () => {
        if (!(await confirmDialog("Rotate the signing secret? The current one keeps signing beside the new one for 24 hours.", "Rotate"))) return;
        await api("POST", `/webhooks/${id}/secret/rotate`);
        toast("Secret rotated.", "success");
        await show();
      },
    },
    "Rotate",
  );

  return h(
    "div",
    { class: "card" },
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
  return h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const from = new Date(since.value).toISOString();
        try {
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
        } catch (err) {
          result.textContent = humanError(err);
        }
      },
    },
    h("h2", {}, "Recover"),
    h("p", { class: "hint" }, "Send again every failed delivery created since a time, with a fresh retry schedule."),
    h("label", { for: "recover-since" }, "Recover failed since"),
    since,
    h("div", { class: "inline" }, h("button", { type: "submit", class: "secondary" }, "Recover…"), result),
  );
}

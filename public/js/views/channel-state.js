// The channel page's first screen: its name and actions (pause, enable, edit), its state, what a pause holds.

import { api } from "../api.js";
import { whileBusy } from "../controls.js";
import { badge, confirmDialog, h, idWithCopy, toast } from "../dom.js";
import { time } from "../times.js";
import { offerReplayAfterEnable } from "./replay.js";

/** The channel's name, target and ID, with its actions: pause or resume, disable or enable, edit. */
export function pageHead(channel) {
  return h(
    "div",
    { class: "page-head-inner" },
    h(
      "div",
      {},
      h("h1", {}, channel.Name),
      h("p", { class: "url muted" }, `${channel.Method} ${channel.URL}`),
      h("p", { class: "muted small" }, "Channel ID ", idWithCopy("channel ID", channel.ID)),
    ),
    h(
      "div",
      { class: "actions" },
      pausedToggle(channel),
      enabledToggle(channel),
      h("a", { class: "button secondary", href: `#/channels/${channel.ID}/edit` }, "Edit"),
    ),
  );
}

/** State at a glance: enabled, sending or holding, ordered or not, and what a pause holds. */
export function stateSummary(channel, held, retentionDays) {
  return h(
    "div",
    {},
    h(
      "ul",
      { class: "state-line", "aria-label": "State" },
      h("li", {}, channel.Enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", channel.DisabledReason ?? "")),
      h("li", {}, channel.Paused ? badge("paused") : "sending", channel.RateLimit ? ` · at most ${channel.RateLimit} a second` : " · no rate limit"),
      h("li", {}, describeOrdering(channel.Ordering)),
    ),
    channel.Paused ? heldNotice(channel, held, retentionDays) : null,
  );
}

/** "No order", "in order", "in order per Message.ID". */
export function describeOrdering(ordering) {
  if (ordering == null) return "no delivery order";
  return ordering.Key ? h("span", {}, "in order per ", h("code", {}, ordering.Key)) : "in order (whole channel)";
}

/** What a pause is holding, and how long before the oldest of it would be purged. */
function heldNotice(channel, held, retentionDays) {
  const oldest = held.at(-1);
  const count = held.length === 100 ? "100 or more deliveries" : `${held.length} ${held.length === 1 ? "delivery" : "deliveries"}`;
  const purgeAt = oldest ? new Date(Date.parse(oldest.CreatedAt) + retentionDays * 86_400_000) : null;
  const soon = purgeAt && purgeAt.getTime() - Date.now() < 3 * 86_400_000;
  return h(
    "div",
    { class: `notice ${soon ? "warn" : ""}` },
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
      dataset: { keepFocus: `toggle-${field}` },
      onclick: (event) =>
        whileBusy(event.currentTarget, async () => {
          if (ask && !(await ask(value))) return;
          await api("PATCH", `/webhooks/${channel.ID}`, { [field]: !value });
          toast(said(!value), "success");
          if (after) await after(!value);
          window.dispatchEvent(new HashChangeEvent("hashchange"));
        }),
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

import { api, apiPage, humanError } from "../api.js";
import { deliveryStatuses, splitEventTypes } from "../api-facts.js";
import { secretField, whileBusy } from "../controls.js";
import {
  badge,
  confirmDialog,
  h,
  idWithCopy,
  mount,
  pageInQuery,
  parseLocalText,
  prettyJson,
  relativeTime,
  time,
  timeHint,
  timeInput,
  toast,
  withQuery,
} from "../dom.js";
import { connectionTest } from "./connection-test.js";
import { deliveryTable } from "./deliveries.js";
import { offerReplayAfterEnable, replayCard } from "./replay.js";

/**
 * One channel. Its first screen is its state and what can be done: the actions, whether
 * it sends, holds or waits (held deliveries, lanes of an ordered channel), then its
 * deliveries; tests, recovery and settings follow, each a group of its own. Everything on
 * it refreshes together every 2 s, without moving keyboard focus.
 */
export async function channelPage(id, query = new URLSearchParams()) {
  const status = query.get("status") ?? "";
  const [types, stats, statuses] = await Promise.all([
    api("GET", "/event-types"),
    api("GET", `/stats?webhook_id=${encodeURIComponent(id)}`),
    deliveryStatuses(),
  ]);
  let channel = await api("GET", `/webhooks/${id}`);

  const statusFilter = h(
    "select",
    {
      id: "status-filter",
      dataset: { keepFocus: "status-filter" },
      onchange: () => (location.hash = withQuery(`#/channels/${id}`, { status: statusFilter.value })),
    },
    h("option", { value: "" }, "All"),
    statuses.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  // The page of deliveries is in the address bar with the status, like every list.
  const deliveries = deliveryTable({
    load: (cursor, perPage) => apiPage(withQuery(`/webhooks/${id}/deliveries`, { per_page: String(perPage), status, cursor: cursor ?? "" })),
    at: pageInQuery(query),
    href: (params) => withQuery(`#/channels/${id}`, { status, ...params }),
  });

  const head = h("div", { class: "page-head" });
  const state = h("div", { class: "channel-state", dataset: { part: "state" } });
  const lanes = h("div", { dataset: { part: "lanes" } });
  const settings = h("div");

  /** Everything the page shows of the channel's state, read again. */
  async function refresh() {
    const [fresh, held, lanesList] = await Promise.all([
      api("GET", `/webhooks/${id}`),
      // The oldest held delivery, and whether there are more than a page of them.
      api("GET", `/deliveries?webhook_id=${encodeURIComponent(id)}&status=held&per_page=100`),
      fresh_ordering(channel) ? loadLanes(id) : Promise.resolve(null),
      deliveries.refresh(),
    ]);
    channel = fresh;
    setPart(head, JSON.stringify([channel.Name, channel.Method, channel.URL, channel.Enabled, channel.Paused]), () => pageHead(channel));
    setPart(state, JSON.stringify([channel, held.length, held.at(-1)?.CreatedAt]), () => stateSummary(channel, held, stats.RetentionDays));
    setPart(lanes, JSON.stringify([channel.Ordering, lanesList]), () => lanesSection(channel, lanesList));
    setPart(settings, JSON.stringify(channel), () => settingsList(channel, types));
    element.dataset.refreshes = String(Number(element.dataset.refreshes ?? 0) + 1);
  }

  const section = (key, title, ...content) =>
    h(
      "section",
      { class: "group", id: `channel-${key}`, "aria-labelledby": `channel-${key}-title` },
      h("h2", { class: "group-title", id: `channel-${key}-title` }, title),
      content,
    );

  const element = h(
    "section",
    { class: "channel-page" },
    head,
    h(
      "nav",
      { class: "jump", "aria-label": "On this page" },
      [
        ["deliveries", "Deliveries"],
        ["try", "Test"],
        ["recover", "Recover and replay"],
        ["settings", "Settings and secret"],
      ].map(([key, text]) => h("a", { href: `#channel-${key}`, onclick: jumpTo(`channel-${key}`) }, text)),
    ),
    state,
    lanes,
    h(
      "section",
      { class: "card", id: "channel-deliveries", "aria-labelledby": "channel-deliveries-title" },
      h(
        "div",
        { class: "page-head" },
        h("h2", { id: "channel-deliveries-title" }, "Deliveries"),
        h("div", { class: "inline" }, h("label", { for: "status-filter" }, "Status"), statusFilter),
      ),
      deliveries.element,
    ),
    section(
      "try",
      "Test",
      h(
        "div",
        { class: "grid" },
        h(
          "div",
          { class: "card" },
          h("h3", {}, "Test Connection"),
          h("p", { class: "hint" }, "A HEAD request to the Target URL, without the custom headers, as the portal's button sends it."),
          connectionTest(id),
        ),
        testEventCard(id, types, channel.Format),
      ),
    ),
    section(
      "recover",
      "Recover and replay",
      h(
        "div",
        { class: "grid" },
        recoverCard(id, () => deliveries.refresh()),
        replayCard(channel, () => deliveries.refresh()),
      ),
    ),
    section("settings", "Settings and secret", h("div", { class: "grid" }, h("div", { class: "card" }, h("h3", {}, "Settings"), settings), secretCard(id))),
  );
  await refresh();
  // Watch the channel while the page is open; parts update in place, focus stays.
  const timer = setInterval(() => refresh().catch(() => {}), 2000);
  return { element, cleanup: () => clearInterval(timer) };
}

const fresh_ordering = (channel) => channel.Ordering != null;

/** A lane list, or null where the API has none (a channel without ordering). */
async function loadLanes(id) {
  try {
    return await api("GET", `/webhooks/${id}/lanes`);
  } catch {
    return null;
  }
}

/** Replaces a part of the page only when what it shows changed (focus inside stays put). */
function setPart(el, key, make) {
  if (el.dataset.key === key) return;
  const focused = el.contains(document.activeElement) ? document.activeElement?.dataset.keepFocus : null;
  el.dataset.key = key;
  el.replaceChildren(make());
  if (focused) el.querySelector(`[data-keep-focus="${CSS.escape(focused)}"]`)?.focus();
}

/** In-page links move focus to the group they name (the router owns the hash). */
const jumpTo = (target) => (event) => {
  event.preventDefault();
  const el = document.getElementById(target);
  const title = el?.querySelector("h2") ?? el;
  if (!title) return;
  title.tabIndex = -1;
  title.scrollIntoView({ block: "start" });
  title.focus({ preventScroll: true });
};

function pageHead(channel) {
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
function stateSummary(channel, held, retentionDays) {
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

/** An ordered channel's lanes that have deliveries waiting behind their head. */
function lanesSection(channel, lanes) {
  if (channel.Ordering == null) return h("span", { hidden: true });
  const title = h("h2", { id: "lanes-title" }, "Lanes");
  const hint = h(
    "p",
    { class: "hint" },
    channel.Ordering.Key
      ? ["Deliveries with the same ", h("code", {}, channel.Ordering.Key), " go one at a time, in order: each waits for the one before it."]
      : "Deliveries go one at a time, in order: each waits for the one before it.",
  );
  if (lanes == null)
    return h("section", { class: "card lanes", "aria-labelledby": "lanes-title" }, title, hint, h("p", { class: "muted" }, "The lanes could not be read."));
  if (!lanes.length)
    return h(
      "section",
      { class: "card lanes", "aria-labelledby": "lanes-title" },
      title,
      hint,
      h("p", { class: "muted" }, "Nothing waits: no lane has a delivery behind its head."),
    );
  return h(
    "section",
    { class: "card lanes", "aria-labelledby": "lanes-title" },
    title,
    hint,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "cards" },
        h("caption", { class: "sr-only" }, "Lanes with deliveries waiting"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Lane", "Head delivery", "Head status", "Waiting behind it", "Head created"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          lanes.map((lane) =>
            h(
              "tr",
              { dataset: { lane: lane.Key ?? "" } },
              h(
                "td",
                { dataset: { label: "Lane" } },
                lane.Key == null
                  ? "whole channel"
                  : lane.Key === ""
                    ? h("span", {}, "events without ", h("code", {}, channel.Ordering?.Key ?? "the key"))
                    : h("span", {}, h("code", {}, channel.Ordering?.Key ?? "key"), " = ", h("code", {}, lane.Key)),
              ),
              h(
                "td",
                { dataset: { label: "Head delivery" } },
                h(
                  "span",
                  { class: "cell" },
                  h("a", { href: withQuery("#/deliveries", { webhook_id: channel.ID, event_id: lane.Head.EventID }) }, lane.Head.EventType),
                  h("span", { class: "block" }, idWithCopy("delivery ID", lane.Head.ID)),
                ),
              ),
              h(
                "td",
                { dataset: { label: "Head status" } },
                h(
                  "span",
                  { class: "cell" },
                  badge(lane.Head.Status),
                  ` ${lane.Head.AttemptCount} ${lane.Head.AttemptCount === 1 ? "attempt" : "attempts"}`,
                  lane.Head.NextAttemptAt ? h("span", { class: "muted small block" }, "next ", relativeTime(lane.Head.NextAttemptAt)) : null,
                  lane.Head.LastError ? h("span", { class: "muted small block" }, lane.Head.LastError) : null,
                ),
              ),
              h("td", { dataset: { label: "Waiting behind it" } }, String(lane.Waiting)),
              h("td", { dataset: { label: "Head created" } }, time(lane.Since)),
            ),
          ),
        ),
      ),
    ),
  );
}

function settingsList(channel, types) {
  return h(
    "dl",
    {},
    h("dt", {}, "State"),
    h("dd", {}, channel.Enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", channel.DisabledReason ?? "")),
    h("dt", {}, "Flow"),
    h("dd", {}, channel.Paused ? badge("paused") : "sending", channel.RateLimit ? ` · at most ${channel.RateLimit} a second` : " · no rate limit"),
    h("dt", {}, "Order"),
    h("dd", {}, describeOrdering(channel.Ordering)),
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
    h("dd", {}, describeEvents(channel.Events, types)),
    h("dt", {}, "Headers"),
    h("dd", {}, channel.Headers.length ? channel.Headers.map((x) => x.Name).join(", ") : "none"),
  );
}

/** The channel's types, "all N portal event types" when it has every one the API lists. */
const describeEvents = (events, types) => {
  const portalTypes = splitEventTypes(types).portal;
  const { portal, operational } = splitEventTypes(events);
  const all = portalTypes.every((t) => portal.includes(t));
  return [all ? `All ${portalTypes.length} portal event types` : portal.join(", "), ...operational].filter(Boolean).join(", ");
};

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

/** "Send test event": a type's sample payload through the channel, as a delivery goes; or only a preview of it. */
function testEventCard(id, types, format) {
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

function secretCard(id) {
  const previous = h("p", { class: "muted small" });
  const secret = secretField({
    id: "secret-value",
    label: "signing secret",
    mask: "whsec_••••••••••••••••",
    load: async () => {
      const s = await api("GET", `/webhooks/${id}/secret`);
      previous.textContent = s.PreviousSecret ? "The previous secret also signs until " : "";
      if (s.PreviousSecret) previous.append(time(s.PreviousSecretExpiresAt), ".");
      return s.Secret;
    },
  });
  const rotate = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: () =>
        whileBusy(rotate, async () => {
          if (!(await confirmDialog("Rotate the signing secret? The current one keeps signing beside the new one for 24 hours.", "Rotate"))) return;
          await api("POST", `/webhooks/${id}/secret/rotate`);
          toast("Secret rotated.", "success");
          await secret.show();
        }),
    },
    "Rotate",
  );

  return h(
    "div",
    { class: "card" },
    h("h3", {}, "Signing secret"),
    h("p", { class: "hint" }, "Receivers verify webhook-signature with it (Standard Webhooks)."),
    secret.value,
    h("div", { class: "inline" }, secret.reveal, secret.copy, rotate),
    previous,
  );
}

function recoverCard(id, onRecovered) {
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

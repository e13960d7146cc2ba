import { api } from "../api.js";
import { deliveryStatuses } from "../api-facts.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { channelDeliveries } from "./channel-deliveries.js";
import { lanesSection, loadLanes } from "./channel-lanes.js";
import { recoverCard } from "./channel-recovery.js";
import { secretCard, settingsList } from "./channel-settings.js";
import { pageHead, stateSummary } from "./channel-state.js";
import { connectionCard, testEventCard } from "./channel-test.js";
import { replayCard } from "./replay.js";

/**
 * One channel. Its first screen is its state and what can be done: the actions, whether
 * it sends, holds or waits (held deliveries, lanes of an ordered channel), then its
 * deliveries; tests, recovery and settings follow, each a group of its own. Everything on
 * it refreshes together every 2 s, without moving keyboard focus.
 */
export async function channelPage(id, query = new URLSearchParams()) {
  const [types, stats, statuses] = await Promise.all([
    api("GET", "/event-types"),
    api("GET", `/stats?webhook_id=${encodeURIComponent(id)}`),
    deliveryStatuses(),
  ]);
  let channel = await api("GET", `/webhooks/${id}`);

  const deliveries = channelDeliveries(id, query, statuses, () => channel);

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
    deliveries.element,
    section("try", "Test", h("div", { class: "grid" }, connectionCard(id), testEventCard(id, types, channel.Format))),
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

/** Replaces a part of the page only when what it shows changed (focus inside stays put). */
function setPart(el, key, make) {
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  replaceKeepingFocus(el, make());
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

// The channel page's deliveries: the channel's deliveries, filtered by status, paged in the address bar.

import { apiPage } from "../api.js";
import { h } from "../dom.js";
import { pageInQuery, withQuery } from "../paging.js";
import { deliveryTable } from "./deliveries.js";

/**
 * The deliveries card of channel `id`, at the status and page its query names; `refresh()`
 * reads them again. `channel()` is the channel as last read: a delivery of a rate-limited
 * one that waits to start says it waits its turn.
 */
export function channelDeliveries(id, query, statuses, channel) {
  const status = query.get("status") ?? "";
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
  const title = h("h2", { id: "channel-deliveries-title" }, "Deliveries");
  // The page of deliveries is in the address bar with the status, like every list.
  const deliveries = deliveryTable({
    heading: title,
    waiting: (d) => waitingTurn(channel(), d),
    load: (cursor, perPage) => apiPage(withQuery(`/webhooks/${id}/deliveries`, { per_page: String(perPage), status, cursor: cursor ?? "" })),
    at: pageInQuery(query),
    href: (params) => withQuery(`#/channels/${id}`, { status, ...params }),
  });
  const element = h(
    "section",
    { class: "card", id: "channel-deliveries", "aria-labelledby": "channel-deliveries-title" },
    h("div", { class: "page-head" }, title, h("div", { class: "inline" }, h("label", { for: "status-filter" }, "Status"), statusFilter)),
    deliveries.element,
  );
  return { element, refresh: () => deliveries.refresh() };
}

/**
 * Why a delivery of a rate-limited channel has not started: pending, never attempted, it
 * waits for the channel's turn to send it (the dispatcher paces the channel's requests).
 */
function waitingTurn(channel, d) {
  if (!channel?.RateLimit || d.Status !== "pending" || d.AttemptCount > 0) return null;
  return `waiting its turn, at most ${channel.RateLimit} a second`;
}

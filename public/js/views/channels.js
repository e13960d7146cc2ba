import { apiPage } from "../api.js";
import { badge, h } from "../dom.js";
import { cursorPager, pageInQuery, withQuery } from "../paging.js";
import { time } from "../times.js";

const PER_PAGE = 50;

export async function channelList(query = new URLSearchParams()) {
  const at = pageInQuery(query);
  // One request: the list answers each channel's health beside it (its newest delivery,
  // its failure streak), however many channels the page holds.
  const { items: channels, next } = await apiPage(withQuery("/webhooks", { per_page: String(PER_PAGE), cursor: at.cursor }));

  const header = h("div", { class: "page-head" }, h("h1", {}, "Channels"), h("a", { class: "button", href: "#/channels/new" }, "New channel"));
  if (channels.length === 0 && !at.cursor) {
    return h(
      "section",
      {},
      header,
      h(
        "div",
        { class: "card empty" },
        h("h2", {}, "No channels yet"),
        h("p", {}, "A channel sends the portal's events to one system: a target URL, a method, a timeout, headers and the event types it wants."),
        h(
          "div",
          { class: "actions center" },
          h("a", { class: "button", href: "#/channels/new" }, "Create the first channel"),
          h("a", { class: "button secondary", href: "#/connect" }, "Connect the portal"),
        ),
      ),
    );
  }
  return h(
    "section",
    {},
    header,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "cards" },
        h("caption", { class: "sr-only" }, "Channels"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Name", "Target URL", "Method", "Events", "State", "Last delivery"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          channels.map((c) =>
            h(
              "tr",
              { dataset: { channel: c.ID } },
              h("td", { dataset: { label: "Name" } }, h("a", { href: `#/channels/${c.ID}` }, c.Name)),
              h("td", { class: "url", dataset: { label: "Target URL" } }, c.URL),
              h("td", { dataset: { label: "Method" } }, c.Method),
              h("td", { dataset: { label: "Events" } }, String(c.Events.length)),
              h("td", { dataset: { label: "State" } }, state(c)),
              h("td", { dataset: { label: "Last delivery" } }, lastDelivery(c.LastDelivery)),
            ),
          ),
        ),
      ),
    ),
    cursorPager(at, next, (params) => withQuery("#/channels", params)),
  );
}

/** Enabled, paused or disabled (with why), and since when its deliveries fail. */
function state(c) {
  return h(
    "span",
    {},
    c.Enabled ? badge(c.Paused ? "paused" : "enabled") : badge("disabled"),
    !c.Enabled && c.DisabledReason ? h("span", { class: "muted small" }, ` ${c.DisabledReason}`) : null,
    c.Enabled && c.FailingSince ? h("span", { class: "muted small block" }, "failing since ", time(c.FailingSince)) : null,
  );
}

/** The channel's newest delivery: its status and when it last changed, and its error if it has one. */
function lastDelivery(d) {
  if (!d) return h("span", { class: "muted" }, "none yet");
  return h(
    "span",
    {},
    badge(d.Status),
    " ",
    time(d.UpdatedAt),
    d.LastError && d.Status !== "succeeded" ? h("span", { class: "muted small block" }, d.LastError) : null,
  );
}

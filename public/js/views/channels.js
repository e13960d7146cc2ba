import { api } from "../api.js";
import { badge, h, pager, time } from "../dom.js";

const PER_PAGE = 50;

export async function channelList(query = new URLSearchParams()) {
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const channels = await api("GET", `/webhooks?per_page=${PER_PAGE}&page=${page}`);
  // The newest delivery of each channel, fetched side by side.
  const latest = await Promise.all(
    channels.map((c) =>
      api("GET", `/webhooks/${c.ID}/deliveries?per_page=1`)
        .then((d) => d[0])
        .catch(() => undefined),
    ),
  );

  const header = h("div", { class: "page-head" }, h("h1", {}, "Channels"), h("a", { class: "button", href: "#/channels/new" }, "New channel"));
  if (channels.length === 0 && page === 1) {
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
          channels.map((c, i) =>
            h(
              "tr",
              { dataset: { channel: c.ID } },
              h("td", { dataset: { label: "Name" } }, h("a", { href: `#/channels/${c.ID}` }, c.Name)),
              h("td", { class: "url", dataset: { label: "Target URL" } }, c.URL),
              h("td", { dataset: { label: "Method" } }, c.Method),
              h("td", { dataset: { label: "Events" } }, String(c.Events.length)),
              h(
                "td",
                { dataset: { label: "State" } },
                c.Enabled
                  ? badge("enabled")
                  : h("span", {}, badge("disabled"), c.DisabledReason ? h("span", { class: "muted small" }, ` ${c.DisabledReason}`) : null),
              ),
              h(
                "td",
                { dataset: { label: "Last delivery" } },
                latest[i] ? h("span", {}, badge(latest[i].Status), " ", time(latest[i].UpdatedAt)) : h("span", { class: "muted" }, "none yet"),
              ),
            ),
          ),
        ),
      ),
    ),
    pager(page, channels.length === PER_PAGE, (n) => `#/channels?page=${n}`),
  );
}

import { api, apiPage } from "../api.js";
import { cursorPager, h, pageInQuery, prettyJson, time, withQuery } from "../dom.js";
import { deliveryTable } from "./deliveries.js";

/** Recent events, filtered by type; each opens to its payload and deliveries. */
const PER_PAGE = 50;

export async function eventsPage(query) {
  const type = query.get("type") ?? "";
  const at = pageInQuery(query);
  const [types, { items: events, next }] = await Promise.all([
    api("GET", "/event-types"),
    apiPage(withQuery("/events", { per_page: String(PER_PAGE), type, cursor: at.cursor })),
  ]);
  const href = (params) => withQuery("#/events", { type, ...params });

  const filter = h(
    "select",
    {
      id: "type-filter",
      onchange: () => (location.hash = filter.value ? `#/events?type=${encodeURIComponent(filter.value)}` : "#/events"),
    },
    h("option", { value: "" }, "All types"),
    types.map((t) => h("option", { value: t, selected: t === type }, t)),
  );

  const list = events.length
    ? events.map((e) => {
        const detail = h("div", { class: "event-detail" });
        const item = h(
          "details",
          {
            class: "event card",
            dataset: { event: e.ID },
            ontoggle: async () => {
              if (!item.open || detail.childElementCount) return;
              const table = deliveryTable({ load: async () => ({ items: (await api("GET", `/events/${e.ID}`)).Deliveries, next: null }), showChannel: true });
              await table.refresh();
              detail.append(
                h("h3", {}, "Deliveries"),
                table.element,
                h("h3", {}, "Payload"),
                h("pre", { class: "payload", tabindex: 0 }, prettyJson(e.Payload)),
              );
            },
          },
          h("summary", {}, h("strong", {}, e.Type), " ", time(e.ReceivedAt), h("span", { class: "muted small" }, ` ${e.ID}`)),
          detail,
        );
        return item;
      })
    : [
        h(
          "div",
          { class: "card empty" },
          h(
            "p",
            {},
            type
              ? `No ${type} events yet.`
              : [
                  "No events yet. Point the portal's webhook at /events (see ",
                  h("a", { href: "#/connect" }, "Connect portal"),
                  "), or run ",
                  h("code", {}, "npm run demo"),
                  ".",
                ],
          ),
        ),
      ];

  return h(
    "section",
    {},
    h("div", { class: "page-head" }, h("h1", {}, "Events"), h("div", { class: "inline" }, h("label", { for: "type-filter" }, "Type"), filter)),
    list,
    cursorPager(at, next, href),
  );
}

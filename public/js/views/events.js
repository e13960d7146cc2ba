import { api, apiPage } from "../api.js";
import { copyButton, h, idWithCopy, prettyJson } from "../dom.js";
import { cursorPager, pageInQuery, withQuery } from "../paging.js";
import { time } from "../times.js";
import { deliveryTable } from "./deliveries.js";
import { sendToControl } from "./replay.js";

/**
 * Recent events, filtered by type, or found by what their payload says (the last 24 h);
 * each opens to its payload, its deliveries, and "Send to…" a channel that has none for it.
 */
const PER_PAGE = 50;

export async function eventsPage(query) {
  const type = query.get("type") ?? "";
  const q = query.get("q") ?? "";
  const at = pageInQuery(query);
  const [types, { items: events, next }] = await Promise.all([
    api("GET", "/event-types"),
    apiPage(withQuery("/events", { per_page: String(PER_PAGE), type, q, cursor: at.cursor })),
  ]);
  const href = (params) => withQuery("#/events", { type, q, ...params });
  let channels;
  const channelsOnce = async () => (channels ??= await api("GET", "/webhooks?per_page=100"));

  const search = h("input", { id: "event-search", type: "search", name: "q", value: q, placeholder: "email, name or ID", maxlength: 200 });
  const searchForm = h(
    "form",
    {
      class: "inline",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        location.hash = withQuery("#/events", { type, q: search.value.trim() });
      },
    },
    h("label", { for: "event-search" }, "Search"),
    search,
    h("button", { type: "submit", class: "secondary" }, "Search"),
  );

  const filter = h(
    "select",
    {
      id: "type-filter",
      onchange: () => (location.hash = withQuery("#/events", { type: filter.value, q })),
    },
    h("option", { value: "" }, "All types"),
    types.map((t) => h("option", { value: t, selected: t === type }, t)),
  );

  const list = events.length
    ? events.map((e) => {
        const detailId = `event-detail-${e.ID}`;
        const detail = h("div", { class: "event-detail", id: detailId, hidden: true });
        // A disclosure button, not a <summary>: the ID beside it can be selected and
        // copied without opening or closing the row.
        const toggle = h(
          "button",
          { type: "button", class: "event-toggle", "aria-expanded": "false", "aria-controls": detailId },
          h("strong", {}, e.Type),
          " ",
          time(e.ReceivedAt),
        );
        toggle.addEventListener("click", async () => {
          const open = toggle.getAttribute("aria-expanded") !== "true";
          toggle.setAttribute("aria-expanded", String(open));
          item.classList.toggle("open", open);
          detail.hidden = !open;
          if (!open || detail.childElementCount) return;
          let latest = [];
          const title = h("h3", {}, "Deliveries");
          const table = deliveryTable({
            heading: title,
            load: async () => {
              latest = (await api("GET", `/events/${e.ID}`)).Deliveries;
              return { items: latest, next: null };
            },
            showChannel: true,
          });
          await table.refresh();
          const sendTo = h("div", {});
          const showSendTo = async () => {
            const all = await channelsOnce();
            sendTo.replaceChildren(
              sendToControl(e, latest, all, async () => {
                await table.refresh();
                await showSendTo();
              }),
            );
          };
          await showSendTo();
          detail.append(
            title,
            table.element,
            sendTo,
            h("div", { class: "page-head" }, h("h3", {}, "Payload"), copyButton("payload", JSON.stringify(e.Payload, null, 2))),
            h("pre", { class: "payload", tabindex: 0 }, prettyJson(e.Payload)),
          );
        });
        const item = h(
          "div",
          { class: "event card", dataset: { event: e.ID } },
          h("div", { class: "event-head" }, toggle, h("span", { class: "muted small event-id" }, "Event ", idWithCopy("event ID", e.ID))),
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
            q
              ? `No event in the last 24 hours contains “${q}”.`
              : type
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
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Events"),
      h("div", { class: "inline wrap" }, searchForm, h("div", { class: "inline" }, h("label", { for: "type-filter" }, "Type"), filter)),
    ),
    q ? h("p", { class: "hint" }, `Events of the last 24 hours whose payload contains “${q}”, in any case.`) : null,
    list,
    cursorPager(at, next, href),
  );
}

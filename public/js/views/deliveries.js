import { api } from "../api.js";
import { whileBusy } from "../controls.js";
import { badge, copyButton, h, idWithCopy, replaceKeepingFocus, toast } from "../dom.js";
import { cursorPager } from "../paging.js";
import { relativeTime, time } from "../times.js";

const FIRST_PAGE = { cursor: null, trail: [], number: 1 };

/**
 * A table of deliveries (cards on a phone); each row expands to its attempts, and can be
 * sent again when that can work. `refresh()` updates rows in place, so a focused button
 * or an open row survives it. `load(cursor, perPage)` answers a page (`{items, next}`);
 * pages are links when `href` makes their address (the page is then `at`, from the
 * address bar), else buttons. The element counts its refreshes (`data-refreshes`), so a
 * test can wait for the next one instead of for a time.
 */
export function deliveryTable({ load, showChannel = false, perPage = 50, at: start = FIRST_PAGE, href }) {
  const open = new Set();
  const rows = new Map(); // delivery id → { row, attempts }
  const body = h("tbody");
  const columns = [showChannel ? "Channel" : "Event type", "Status", "Attempts", "Last result", "Last attempt", "Next retry", "Created", "Actions"];
  const table = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "deliveries cards" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      body,
    ),
  );
  const empty = h("p", { class: "muted empty-row", hidden: true }, "No deliveries.");
  const pages = h("div");
  let at = start;
  let refreshes = 0;

  async function refresh() {
    const { items: list, next } = await load(at.cursor, perPage);
    empty.hidden = list.length > 0;
    const details = await Promise.all(list.map((d) => (open.has(d.ID) ? api("GET", `/deliveries/${d.ID}`) : null)));
    // Rows no longer listed go; the others are updated where they stand.
    const keep = new Set(list.map((d) => d.ID));
    for (const [id, r] of rows) {
      if (keep.has(id)) continue;
      r.row.remove();
      r.attempts?.remove();
      rows.delete(id);
    }
    let cursor = body.firstElementChild;
    list.forEach((d, i) => {
      let r = rows.get(d.ID);
      if (!r) {
        r = { row: h("tr", { dataset: { delivery: d.ID } }), attempts: null };
        rows.set(d.ID, r);
      }
      fill(r.row, d);
      if (r.row !== cursor) body.insertBefore(r.row, cursor);
      cursor = r.row.nextElementSibling;
      if (details[i]) {
        // Made again only when the delivery changed: focus inside it and an open "Sent" stay.
        const key = JSON.stringify(details[i]);
        if (!r.attempts) r.attempts = attemptsRow(details[i]);
        else if (r.attempts.dataset.key !== key) replaceKeepingFocus(r.attempts, ...attemptsRow(details[i]).childNodes);
        r.attempts.dataset.key = key;
        if (r.attempts !== cursor) body.insertBefore(r.attempts, cursor);
        cursor = r.attempts.nextElementSibling;
      } else if (r.attempts) {
        r.attempts.remove();
        r.attempts = null;
      }
    });
    pages.replaceChildren(
      cursorPager(at, next, href, (target) => {
        at = target;
        refresh();
      }) ?? "",
    );
    element.dataset.refreshes = String(++refreshes);
  }

  /** The row's cells, made once; later refreshes change their text, never the buttons. */
  function fill(row, d) {
    row.dataset.status = d.Status;
    if (!row.firstChild) {
      row.append(...columns.map((label) => h("td", { dataset: { label } })));
      const toggle = h("button", { type: "button", class: "secondary small toggle" });
      toggle.addEventListener("click", () => {
        if (open.has(row.dataset.delivery)) open.delete(row.dataset.delivery);
        else open.add(row.dataset.delivery);
        refresh();
      });
      const redeliver = h("button", { type: "button", class: "secondary small redeliver" }, "Redeliver");
      redeliver.addEventListener("click", () =>
        whileBusy(redeliver, async () => {
          await api("POST", `/deliveries/${row.dataset.delivery}/redeliver`);
          toast("Queued to send again.", "success");
          refresh();
        }),
      );
      row.lastChild.append(toggle, redeliver);
    }
    const cells = row.children;
    const channel = d.WebhookName == null ? "deleted channel" : d.WebhookDeleted ? `${d.WebhookName} (deleted)` : d.WebhookName;
    const name = d.WebhookDeleted || d.WebhookName == null ? channel : h("a", { href: `#/channels/${d.WebhookID}` }, channel);
    set(
      cells[0],
      showChannel ? h("span", {}, name, h("span", { class: "muted small" }, ` ${d.EventType}`)) : d.EventType,
      showChannel ? `${channel} ${d.EventType}` : d.EventType,
    );
    set(cells[1], badge(d.Status), d.Status);
    set(cells[2], String(d.AttemptCount), String(d.AttemptCount));
    const result = lastResult(d);
    set(cells[3], result, result);
    set(cells[4], d.LastAttemptAt ? time(d.LastAttemptAt) : "", d.LastAttemptAt ?? "");
    const retry = d.Status === "retrying" && d.NextAttemptAt ? relativeTime(d.NextAttemptAt) : "";
    set(cells[5], retry, retry);
    set(cells[6], time(d.CreatedAt), d.CreatedAt);
    const expanded = open.has(d.ID);
    const toggle = row.querySelector(".toggle");
    toggle.textContent = expanded ? "Hide attempts" : "Attempts";
    toggle.setAttribute("aria-expanded", String(expanded));
    // Redeliver only where it can work: the channel exists, is enabled and still wants the type.
    row.querySelector(".redeliver").hidden = !d.CanRedeliver;
  }

  const reset = () => {
    at = FIRST_PAGE;
    return refresh();
  };
  const element = h("div", { class: "delivery-table" }, table, empty, pages);
  return { element, refresh, reset };
}

/** Replaces a cell's content only when what it shows changed (focus inside stays put). */
function set(cell, content, key) {
  if (cell.dataset.key === key) return;
  cell.dataset.key = key;
  cell.replaceChildren(content);
}

/** "200 in 41 ms", or the error itself. */
function lastResult(d) {
  const took = d.LastDurationMs == null ? "" : ` in ${d.LastDurationMs} ms`;
  if (d.LastStatusCode != null && (d.Status === "succeeded" || !d.LastError)) return `${d.LastStatusCode}${took}`;
  if (d.LastError) return `${d.LastError}${took}`;
  return d.LastStatusCode == null ? "" : `${d.LastStatusCode}${took}`;
}

function attemptsRow(d) {
  const content = d.Attempts.length
    ? h(
        "table",
        { class: "attempts" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["#", "Started", "Duration", "Code", "Error", "Response"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          d.Attempts.map((a) =>
            h(
              "tr",
              {},
              h("td", {}, String(a.Attempt)),
              h("td", {}, time(a.StartedAt)),
              h("td", {}, `${a.DurationMs} ms`),
              h("td", {}, a.StatusCode == null ? "" : String(a.StatusCode)),
              h("td", {}, a.Error ?? ""),
              h(
                "td",
                {},
                // What was sent, when the channel rewrites it (a Transform, URL placeholders).
                a.Request
                  ? h(
                      "details",
                      { class: "sent" },
                      h("summary", {}, "Sent"),
                      h("p", { class: "small" }, a.Request.URL),
                      h("pre", { tabindex: 0 }, a.Request.Body),
                      copyButton("request body", a.Request.Body),
                    )
                  : null,
                a.ResponseBody ? h("pre", { tabindex: 0 }, a.ResponseBody) : "",
              ),
            ),
          ),
        ),
      )
    : h("p", { class: "muted" }, "No attempts yet.");
  const next = d.NextAttemptAt && d.Status === "retrying" ? h("p", { class: "muted small" }, "Next attempt: ", time(d.NextAttemptAt)) : null;
  const error = d.LastError ? h("p", { class: "muted small" }, `Last error: ${d.LastError}`) : null;
  // The IDs a script needs (redeliver takes the delivery's), each selectable and copyable.
  const ids = h(
    "p",
    { class: "ids small" },
    h("span", {}, "Delivery ", idWithCopy("delivery ID", d.ID)),
    h("span", {}, "Event ", idWithCopy("event ID", d.EventID)),
  );
  return h("tr", { class: "attempts-row", dataset: { attemptsFor: d.ID } }, h("td", { colspan: 8 }, ids, content, next, error));
}

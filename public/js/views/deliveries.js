import { api } from "../api.js";
import { whileBusy } from "../controls.js";
import { badge, h, replaceKeepingFocus, toast } from "../dom.js";
import { cursorPager } from "../paging.js";
import { relativeTime, time } from "../times.js";
import { attemptsRow } from "./delivery-attempts.js";

const FIRST_PAGE = { cursor: null, trail: [], number: 1 };

/**
 * A table of deliveries (cards on a phone); each row expands to its attempts, and can be
 * sent again when that can work. `refresh()` updates rows in place, so a focused button
 * or an open row survives it; when what had focus goes (its delivery left the page as
 * new ones came), focus moves to the table's `heading`, never to the page's body.
 * `load(cursor, perPage)` answers a page (`{items, next}`); pages are links when `href`
 * makes their address (the page is then `at`, from the address bar), else buttons. The
 * element counts its refreshes (`data-refreshes`), so a test can wait for the next one
 * instead of for a time. `waiting(d)` says, in a few words, why a delivery not yet sent
 * waits (a rate-limited channel's turn), or null: shown under its status and in its
 * attempts.
 */
export function deliveryTable({ load, showChannel = false, perPage = 50, at: start = FIRST_PAGE, href, heading = null, waiting = () => null }) {
  const open = new Set();
  const rows = new Map(); // delivery id → { row, attempts }
  const body = h("tbody");
  const columns = [showChannel ? "Channel" : "Event type", "Status", "Attempts", "Last result", "Last attempt", "Next attempt", "Created", "Actions"];
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

  let asked = 0;
  async function refresh() {
    // Refreshes overlap (a timer, a click): only the latest one asked may change the table.
    const mine = ++asked;
    const { items: list, next } = await load(at.cursor, perPage);
    const details = await Promise.all(list.map((d) => (open.has(d.ID) ? api("GET", `/deliveries/${d.ID}`) : null)));
    if (mine !== asked) return;
    empty.hidden = list.length > 0;
    // What has focus in the table now, and whose delivery it is: it may go with its row.
    const focused = element.contains(document.activeElement) ? document.activeElement : null;
    const owner = focused?.closest("[data-delivery], [data-attempts-for]");
    const focusedDelivery = owner ? (owner.dataset.delivery ?? owner.dataset.attemptsFor) : null;
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
        const note = waiting(d);
        const key = JSON.stringify([details[i], note]);
        if (!r.attempts) r.attempts = attemptsRow(details[i], note);
        else if (r.attempts.dataset.key !== key) replaceKeepingFocus(r.attempts, ...attemptsRow(details[i], note).childNodes);
        r.attempts.dataset.key = key;
        if (r.attempts !== cursor) body.insertBefore(r.attempts, cursor);
        cursor = r.attempts.nextElementSibling;
      } else if (r.attempts) {
        r.attempts.remove();
        r.attempts = null;
      }
    });
    replaceKeepingFocus(
      pages,
      cursorPager(at, next, href, (target) => {
        at = target;
        refresh();
      }) ?? "",
    );
    if (focused && !element.contains(document.activeElement)) keepFocusIn(focusedDelivery);
    element.dataset.refreshes = String(++refreshes);
  }

  /**
   * Focus was on something this refresh took away: to its delivery's row when that is
   * still listed (its attempts were made again), else to the table's heading, saying why.
   */
  function keepFocusIn(id) {
    const row = id ? rows.get(id)?.row : null;
    if (row) {
      row.querySelector(".toggle").focus({ preventScroll: true });
      return;
    }
    const target = heading ?? element;
    // A heading takes focus from script only with a tabindex (-1 keeps it out of the Tab order).
    if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
    target.focus();
    if (id) toast("The delivery you were on is no longer on this page.");
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
    // A delivery that waits its turn (a rate-limited channel's) says so beside its status.
    const note = waiting(d);
    set(
      cells[1],
      note ? h("span", {}, badge(d.Status), h("span", { class: "block muted small waiting" }, note)) : badge(d.Status),
      `${d.Status} ${note ?? ""}`,
    );
    set(cells[2], String(d.AttemptCount), String(d.AttemptCount));
    const result = lastResult(d);
    set(cells[3], result, result);
    set(cells[4], d.LastAttemptAt ? time(d.LastAttemptAt) : "", d.LastAttemptAt ?? "");
    const next = nextAttempt(d, note);
    set(cells[5], next, typeof next === "string" ? next : next.outerHTML);
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

/**
 * When a delivery is tried next: a retry's time; for one waiting its turn, its start when
 * the channel set one further off, else "in its turn" (a channel starts its deliveries in
 * the order they came).
 */
function nextAttempt(d, waits) {
  if (d.Status === "retrying" && d.NextAttemptAt) return relativeTime(d.NextAttemptAt);
  if (!waits) return "";
  return d.NextAttemptAt && Date.parse(d.NextAttemptAt) > Date.now() ? relativeTime(d.NextAttemptAt) : "in its turn";
}

// A tiny element builder: every string becomes a text node, so nothing from the API is
// ever parsed as HTML.

import { humanError } from "./api.js";

/**
 * h("a", { href: "#/", class: "x", onclick: fn }, "text", child, [more])
 * Attributes starting with "on" become listeners; false/null/undefined ones are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value == null) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/*
 * Times: one format everywhere, in this browser's time zone, named ("2026-11-29 22:32 UTC").
 * Time inputs take the same format (a text field: one tab stop, where a datetime-local
 * takes six, and no locale's own order).
 */
const pad = (n) => String(n).padStart(2, "0");

/** This browser's time zone, short ("UTC", "GMT+1", "CET"). */
export const zoneName = () =>
  new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(new Date()).find((p) => p.type === "timeZoneName")?.value ?? "local time";

/** "2026-11-29 22:32" in this browser's time zone: what a time input shows and takes. */
export function localText(value) {
  if (value == null || value === "") return "";
  const d = new Date(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2026-11-29 22:32 UTC": a time as every view shows it. */
export const formatTime = (value) => `${localText(value)} ${zoneName()}`;

export function time(iso) {
  if (!iso) return "";
  return h("time", { datetime: iso, title: new Date(iso).toISOString() }, formatTime(iso));
}

/** A time input's text ("2026-11-29 22:32", or a date alone) as a Date; null if it is not one. */
export function parseLocalText(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, hh = "0", mm = "0"] = m.map((x) => x);
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm));
  // 2026-02-31 rolls over to March: not a date.
  return date.getMonth() === Number(mo) - 1 && date.getDate() === Number(d) && Number(hh) < 24 && Number(mm) < 60 ? date : null;
}

/** A text field for a time, with its format and the time zone in its hint. */
export function timeInput(id, value, attrs = {}) {
  return h("input", {
    id,
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "YYYY-MM-DD HH:MM",
    value: localText(value),
    "aria-describedby": `${id}-hint`,
    ...attrs,
  });
}
export const timeHint = (id) => h("p", { class: "hint", id: `${id}-hint` }, `YYYY-MM-DD HH:MM, ${zoneName()}`);

/** A small button that copies `text()` (a string, or a function giving one) and says so. */
export function copyButton(label, text) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary small copy",
      "aria-label": `Copy ${label}`,
      onclick: async () => {
        let value;
        try {
          value = typeof text === "function" ? await text() : text;
        } catch (err) {
          // The API would not give it (a secret read that failed): say why, not "copying".
          toast(humanError(err), "error");
          return;
        }
        try {
          await navigator.clipboard.writeText(value);
          toast(`${label.charAt(0).toUpperCase()}${label.slice(1)} copied.`, "success");
        } catch {
          toast(`Copying is not allowed here; select the ${label} and copy it by hand.`, "error");
        }
      },
    },
    "Copy",
  );
}

/** An ID shown in full, selectable on its own, with a copy button. */
export function idWithCopy(label, id) {
  return h("span", { class: "id-copy" }, h("code", { class: "id" }, id), " ", copyButton(label, id));
}

export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

let toastTimer;
/** A short message in the live region, read out by screen readers. */
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.className = `show ${kind}`;
  el.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(toast.clear, 4000);
}
/**
 * A message for the page a navigation leads to ("Channel created."): the router says it
 * once that page is on screen, instead of clearing it with the page it was said on.
 */
toast.next = (message, kind = "success") => {
  toast.pending = { message, kind };
};
toast.pending = null;
/** A message belongs to the page it was said on. */
toast.clear = () => {
  clearTimeout(toastTimer);
  const el = document.getElementById("toast");
  el.className = "";
  el.textContent = "";
};

/** A modal confirmation on a native <dialog>: focus-trapped and closable with Escape. */
export function confirmDialog(message, action = "Confirm") {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": "Confirm" },
      h(
        "form",
        { method: "dialog" },
        h("p", {}, message),
        h(
          "div",
          { class: "actions" },
          h("button", { value: "cancel", class: "secondary" }, "Cancel"),
          h("button", { value: "confirm", class: "danger" }, action),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * JSON as indented text, for people. JSON.stringify recurses, so a payload nested
 * thousands deep would throw; past `maxDepth` a value is shown collapsed instead.
 */
export function prettyJson(value, maxDepth = 24) {
  const write = (v, depth, indent) => {
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
    const isArray = Array.isArray(v);
    const entries = isArray ? v.map((item) => [null, item]) : Object.entries(v);
    if (entries.length === 0) return isArray ? "[]" : "{}";
    if (depth >= maxDepth) return isArray ? "[…]" : "{…}";
    const inner = `${indent}  `;
    const lines = entries.map(([key, item]) => `${inner}${key === null ? "" : `${JSON.stringify(key)}: `}${write(item, depth + 1, inner)}`);
    return `${isArray ? "[" : "{"}\n${lines.join(",\n")}\n${indent}${isArray ? "]" : "}"}`;
  };
  return write(value, 0, "");
}

/** "in 4 min", "12 s ago": a time relative to now, with the exact time on hover. */
export function relativeTime(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  const abs = Math.abs(ms);
  const [value, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), "s"]
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), "min"]
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), "h"]
          : [Math.round(abs / 86_400_000), "d"];
  return h("time", { datetime: iso, title: formatTime(iso) }, ms >= 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`);
}

/*
 * Cursor paging in the address bar. The API pages with cursors (positions in its lists'
 * order, from each page's Link header), so that nothing is skipped when rows change
 * between pages; a cursor only goes forwards, so the hash also keeps the cursors of the
 * pages before (`trail`), for "← Previous" and the page number.
 */

/** The page a view's query names: its cursor (null: the first page) and the cursors before it. */
export function pageInQuery(query) {
  const cursor = query.get("cursor") || null;
  const trail = cursor ? (query.get("trail") ?? "").split("~").filter(Boolean) : [];
  return { cursor, trail, number: cursor ? trail.length + 2 : 1 };
}

/**
 * Previous / next for a cursor-paged list at page `at`, `next` being the next page's
 * cursor (null on the last page): links when `href(params)` makes a page's address from
 * its query parameters (the view adds its filters), buttons calling `go(page)` otherwise.
 */
export function cursorPager(at, next, href, go) {
  const pageAt = (cursor, trail) => ({ cursor, trail: cursor ? trail : [], number: cursor ? trail.length + 2 : 1 });
  const previous = at.cursor ? pageAt(at.trail.at(-1) ?? null, at.trail.slice(0, -1)) : null;
  const following = next ? pageAt(next, at.cursor ? [...at.trail, at.cursor] : []) : null;
  if (!previous && !following) return null;
  const to = (target, text, rel) => {
    if (!target) return h("span", {});
    if (!href) return h("button", { type: "button", class: "secondary small", onclick: () => go(target) }, text);
    const params = { ...(target.cursor ? { cursor: target.cursor } : {}), ...(target.trail.length ? { trail: target.trail.join("~") } : {}) };
    return h("a", { href: href(params), rel, dataset: { keepFocus: `pager-${rel}` } }, text);
  };
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    to(previous, "← Previous", "prev"),
    h("span", { class: "muted small" }, `Page ${at.number}`),
    to(following, "Next →", "next"),
  );
}

/** A query string for a hash route, or nothing when there are no parameters. */
export const withQuery = (base, params) => {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  return query.size ? `${base}?${query}` : base;
};

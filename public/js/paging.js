// Cursor paging in the address bar, and the query strings of hash routes.

import { h } from "./dom.js";

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
    if (!href) return h("button", { type: "button", class: "secondary small", dataset: { keepFocus: `pager-${rel}` }, onclick: () => go(target) }, text);
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

import { api } from "../api.js";
import { legend, sparkline, stackedBars } from "../charts.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { formatTime, relativeTime, time } from "../times.js";

const DAY = 86_400_000;

/**
 * The landing page: how delivery went over the last 24 hours and 7 days, a chart of
 * deliveries by outcome over the chosen window, and a row per channel with its health.
 */
export async function dashboard(query) {
  const range = query.get("range") === "7d" ? "7d" : "24h";
  const content = h("div", {});
  let refreshes = 0;
  const refresh = async () => {
    const next = await build(range, refresh);
    // A long error the user opened stays open through the refresh.
    const opened = [...content.querySelectorAll("details[open][data-keep-open]")].map((d) => d.dataset.keepOpen);
    for (const details of next.querySelectorAll("details[data-keep-open]")) details.open = opened.includes(details.dataset.keepOpen);
    replaceKeepingFocus(content, next);
    content.dataset.refreshes = String(++refreshes);
  };
  await refresh();
  // The numbers move while the page is open: read them again every 30 s.
  const timer = setInterval(() => refresh().catch(() => {}), 30_000);
  return { element: content, cleanup: () => clearInterval(timer) };
}

async function build(range, refresh) {
  const until = Date.now();
  const window = (days) => `/stats?since=${new Date(until - days * DAY).toISOString()}&until=${new Date(until).toISOString()}`;
  // The channel list says which channels are failing now (FailingSince), so an old error
  // of a channel whose deliveries succeed again reads as recovered, not as a failure.
  const [day, week, channels] = await Promise.all([api("GET", window(1)), api("GET", window(7)), api("GET", "/webhooks?per_page=100")]);
  const shown = range === "7d" ? week : day;
  const health = new Map(channels.map((c) => [c.ID, c]));

  const refreshButton = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      dataset: { keepFocus: "refresh" },
      onclick: () => refresh().catch(() => {}),
    },
    "Refresh",
  );
  return h(
    "section",
    {},
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Dashboard"),
      h("p", { class: "inline muted small" }, h("span", { class: "updated" }, "Updated ", time(new Date(until).toISOString()), ", every 30 s"), refreshButton),
    ),
    h("div", { class: "tiles-grid" }, summary("Last 24 hours", day, until - DAY), summary("Last 7 days", week, until - 7 * DAY)),
    h(
      "div",
      { class: "card" },
      h(
        "div",
        { class: "page-head" },
        h("h2", {}, "Deliveries over time"),
        h(
          "nav",
          { class: "segmented", "aria-label": "Chart window" },
          h("a", { href: "#/?range=24h", "aria-current": range === "24h" ? "true" : null, dataset: { keepFocus: "range-24h" } }, "24 hours"),
          h("a", { href: "#/?range=7d", "aria-current": range === "7d" ? "true" : null, dataset: { keepFocus: "range-7d" } }, "7 days"),
        ),
      ),
      stackedBars(h, shown.Series, formatTime),
      legend(h, Object.keys(shown.Counts)),
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, `Channels, last ${range === "7d" ? "7 days" : "24 hours"}`),
      shown.Webhooks.length
        ? channelTable(shown, health)
        : h("p", { class: "muted" }, "No channels yet. ", h("a", { href: "#/channels/new" }, "Create one"), "."),
    ),
  );
}

function summary(title, stats, since) {
  const { Counts, SuccessRate, LatencyMs, StoredLate } = stats;
  const failedLink = `#/deliveries?status=failed&since=${encodeURIComponent(new Date(since).toISOString())}`;
  return h(
    "section",
    { class: "card tiles", "aria-label": title },
    h("h2", {}, title),
    h(
      "dl",
      {},
      tile("Success rate", SuccessRate == null ? "–" : `${(SuccessRate * 100).toFixed(1)}%`, "tile-rate"),
      tile("Failed", h("a", { href: failedLink }, String(Counts.failed)), "tile-failed"),
      tile("Retrying", String(Counts.retrying), "tile-retrying"),
      tile("Latency P50 / P95", LatencyMs.P50 == null ? "–" : `${LatencyMs.P50} / ${LatencyMs.P95} ms`, "tile-latency"),
      // Only after an outage: events accepted while the database was down, stored later.
      StoredLate ? tile("Accepted in a database outage, stored later", String(StoredLate), "tile-stored-late") : null,
    ),
  );
}

const tile = (label, value, id) => h("div", { class: "tile", dataset: { tile: id } }, h("dt", {}, label), h("dd", {}, value));

const COLUMNS = ["Channel", "Trend", "Success", "Failed", "P95", "Last error", "Last failed"];

/**
 * A row per channel. It fits its card: names and errors wrap, the numbers and times keep
 * to a line, and an error too long to read in a table shows its start, opening to all of
 * it. On a phone each row is a card.
 */
function channelTable(stats, health) {
  const column = (t) => t.toLowerCase().replaceAll(" ", "-");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cards channel-health" },
      h("caption", { class: "sr-only" }, "Channel health"),
      h(
        "colgroup",
        {},
        COLUMNS.map((t) => h("col", { class: `col-${column(t)}` })),
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          COLUMNS.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        stats.Webhooks.map((w) =>
          h(
            "tr",
            { dataset: { webhook: w.ID } },
            h(
              "td",
              { dataset: { label: "Channel" }, class: "channel-name" },
              w.Deleted ? h("span", { class: "muted" }, `${w.Name ?? "a channel"} (deleted)`) : h("a", { href: `#/channels/${w.ID}` }, w.Name),
            ),
            h("td", { dataset: { label: "Trend" } }, sparkline(w.Trend ?? [])),
            h("td", { dataset: { label: "Success" }, class: "number" }, w.SuccessRate == null ? "–" : `${(w.SuccessRate * 100).toFixed(1)}%`),
            h("td", { dataset: { label: "Failed" }, class: "number" }, String(w.Counts.failed)),
            h("td", { dataset: { label: "P95" }, class: "number" }, w.LatencyMs.P95 == null ? "–" : `${w.LatencyMs.P95} ms`),
            lastErrorCell(w, health.get(w.ID)),
            h("td", { dataset: { label: "Last failed" }, class: "number" }, w.LastFailureAt ? relativeTime(w.LastFailureAt) : ""),
          ),
        ),
      ),
    ),
  );
}

/** Errors longer than this show their start in the table, and open to the whole text. */
const ERROR_SHOWN = 140;

/**
 * The channel's last error: red while it stands; said to be recovered once the channel is
 * not failing and its newest delivery succeeded after that error (the failures were
 * retried successfully, or the target came back).
 */
function lastErrorCell(w, channel) {
  if (!w.LastError) return h("td", { dataset: { label: "Last error" } }, "");
  const newest = channel?.LastDelivery;
  const recovered = channel && !channel.FailingSince && newest?.Status === "succeeded" && newest.UpdatedAt >= w.LastFailureAt;
  const text = errorText(w.LastError, `error-${w.ID}`);
  if (!recovered) return h("td", { dataset: { label: "Last error" }, class: "error-text" }, h("span", { class: "cell" }, text));
  return h(
    "td",
    { dataset: { label: "Last error" }, class: "recovered" },
    h("span", { class: "cell" }, h("span", { class: "badge badge-succeeded" }, "recovered"), " ", text),
  );
}

/** An error as the table shows it: whole, or when long its start, a disclosure opening to all of it. */
function errorText(error, key) {
  if (error.length <= ERROR_SHOWN) return error;
  const cut = error.slice(0, ERROR_SHOWN - 20);
  const start = cut.slice(0, Math.max(cut.lastIndexOf(" "), ERROR_SHOWN / 2)).replace(/[\s,.;:(]+$/, "");
  return h(
    "details",
    { class: "long-error", dataset: { keepOpen: key } },
    // Closed, the summary is the error's start; open, the whole error follows a "Show less".
    h(
      "summary",
      { title: error, dataset: { keepFocus: key } },
      h("span", { class: "error-start" }, `${start}…`),
      h("span", { class: "show-less" }, "Show less"),
    ),
    h("span", { class: "whole-error" }, error),
  );
}

import { api } from "../api.js";
import { legend, sparkline, stackedBars } from "../charts.js";
import { h, relativeTime, time } from "../dom.js";

const DAY = 86_400_000;

/**
 * The landing page: how delivery went over the last 24 hours and 7 days, a chart of
 * deliveries by outcome over the chosen window, and a row per channel with its health.
 */
export async function dashboard(query) {
  const range = query.get("range") === "7d" ? "7d" : "24h";
  const until = Date.now();
  const window = (days) => `/stats?since=${new Date(until - days * DAY).toISOString()}&until=${new Date(until).toISOString()}`;
  const [day, week] = await Promise.all([api("GET", window(1)), api("GET", window(7))]);
  const shown = range === "7d" ? week : day;

  const element = h(
    "section",
    {},
    h("div", { class: "page-head" }, h("h1", {}, "Dashboard"), h("p", { class: "muted small" }, "Updated ", time(new Date(until).toISOString()))),
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
          h("a", { href: "#/?range=24h", "aria-current": range === "24h" ? "true" : null }, "24 hours"),
          h("a", { href: "#/?range=7d", "aria-current": range === "7d" ? "true" : null }, "7 days"),
        ),
      ),
      stackedBars(shown.Series),
      h("div", { class: "chart-axis muted small" }, h("span", {}, time(shown.Since)), h("span", {}, time(shown.Until))),
      legend(h),
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, `Channels, last ${range === "7d" ? "7 days" : "24 hours"}`),
      shown.Webhooks.length ? channelTable(shown) : h("p", { class: "muted" }, "No channels yet. ", h("a", { href: "#/channels/new" }, "Create one"), "."),
    ),
  );
  return element;
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

function channelTable(stats) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cards" },
      h("caption", { class: "sr-only" }, "Channel health"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Channel", "Trend", "Success", "Failed", "P95", "Last error", "Last failed"].map((t) => h("th", { scope: "col" }, t)),
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
              { dataset: { label: "Channel" } },
              w.Deleted ? h("span", { class: "muted" }, `${w.Name ?? "a channel"} (deleted)`) : h("a", { href: `#/channels/${w.ID}` }, w.Name),
            ),
            h("td", { dataset: { label: "Trend" } }, sparkline(w.Trend ?? [])),
            h("td", { dataset: { label: "Success" } }, w.SuccessRate == null ? "–" : `${(w.SuccessRate * 100).toFixed(1)}%`),
            h("td", { dataset: { label: "Failed" } }, String(w.Counts.failed)),
            h("td", { dataset: { label: "P95" } }, w.LatencyMs.P95 == null ? "–" : `${w.LatencyMs.P95} ms`),
            h("td", { dataset: { label: "Last error" }, class: "error-text" }, w.LastError ?? ""),
            h("td", { dataset: { label: "Last failed" } }, w.LastFailureAt ? relativeTime(w.LastFailureAt) : ""),
          ),
        ),
      ),
    ),
  );
}

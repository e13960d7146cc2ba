// Charts drawn in the page as inline SVG: no library, nothing from elsewhere (the CSP
// stays 'self'). Colours come from CSS classes, since the CSP allows no inline style.

const SVG = "http://www.w3.org/2000/svg";

/** svg("rect", { x: 1 }, child…): an SVG element, as h() makes HTML ones. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) if (value != null) el.setAttribute(name, String(value));
  for (const child of children.flat()) if (child != null) el.append(child);
  return el;
}

/** The order outcomes stack in, bottom up, and their names in the legend. */
export const OUTCOMES = ["succeeded", "failed", "retrying", "held", "pending", "cancelled"];

const total = (counts) => OUTCOMES.reduce((n, s) => n + (counts[s] ?? 0), 0);

/**
 * Deliveries over time, stacked by outcome: one bar per bucket of the stats' Series.
 * Described for screen readers by its totals; each bar's title gives its counts.
 */
export function stackedBars(series, { height = 160 } = {}) {
  const width = 600;
  const max = Math.max(1, ...series.map((b) => total(b.Counts)));
  const slot = width / Math.max(1, series.length);
  const gap = Math.min(2, slot * 0.2);
  const bars = series.map((bucket, i) => {
    let y = height;
    const parts = OUTCOMES.filter((s) => bucket.Counts[s] > 0).map((s) => {
      const h = (bucket.Counts[s] / max) * (height - 4);
      y -= h;
      return svg("rect", { class: `bar-${s}`, x: (i * slot + gap / 2).toFixed(2), y: y.toFixed(2), width: (slot - gap).toFixed(2), height: h.toFixed(2) });
    });
    const label = `${new Date(bucket.Start).toLocaleString()}: ${
      OUTCOMES.filter((s) => bucket.Counts[s])
        .map((s) => `${bucket.Counts[s]} ${s}`)
        .join(", ") || "none"
    }`;
    return svg("g", {}, svg("title", {}, label), svg("rect", { class: "bar-hit", x: i * slot, y: 0, width: slot, height }), ...parts);
  });
  const sums = Object.fromEntries(OUTCOMES.map((s) => [s, series.reduce((n, b) => n + (b.Counts[s] ?? 0), 0)]));
  const description = `Deliveries over time: ${
    OUTCOMES.filter((s) => sums[s])
      .map((s) => `${sums[s]} ${s}`)
      .join(", ") || "none"
  }.`;
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": description },
    svg("line", { class: "axis", x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }),
    ...bars,
  );
}

/** A row's health in a few pixels: each bucket's deliveries, the failed part in red. */
export function sparkline(trend) {
  const width = 120;
  const height = 24;
  const max = Math.max(1, ...trend.map(([ok, failed]) => ok + failed));
  const slot = width / Math.max(1, trend.length);
  const bars = trend.flatMap(([ok, failed], i) => {
    const okH = (ok / max) * height;
    const failedH = (failed / max) * height;
    return [
      svg("rect", { class: "bar-succeeded", x: i * slot, y: height - okH - failedH, width: Math.max(0.5, slot - 0.5), height: okH }),
      svg("rect", { class: "bar-failed", x: i * slot, y: height - failedH, width: Math.max(0.5, slot - 0.5), height: failedH }),
    ];
  });
  const ok = trend.reduce((n, [s]) => n + s, 0);
  const failed = trend.reduce((n, [, f]) => n + f, 0);
  return svg(
    "svg",
    { class: "sparkline", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": `${ok} succeeded, ${failed} failed` },
    ...bars,
  );
}

/** The legend under a chart. */
export function legend(h) {
  return h(
    "ul",
    { class: "legend" },
    OUTCOMES.map((s) => h("li", {}, h("span", { class: `swatch bar-${s}`, "aria-hidden": "true" }), s)),
  );
}

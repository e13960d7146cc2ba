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

/**
 * The order outcomes stack in, bottom up, and the legend's: the statuses the API counts
 * (the keys of its `Counts`), in its order, but with the two that ended a delivery's run
 * at the bottom, where they read first.
 */
export const stackOrder = (statuses) => [...statuses].sort((a, b) => endedFirst(a) - endedFirst(b));
const endedFirst = (status) => ({ succeeded: 0, failed: 1 })[status] ?? 2;

const total = (counts) => Object.values(counts).reduce((n, c) => n + c, 0);

/** A round axis top at or above `n`, whose half is a whole number: 2, 4, 6, 8, 10, 20, … */
export function niceMax(n) {
  if (n <= 2) return 2;
  const step = 10 ** Math.floor(Math.log10(n));
  return [2, 4, 6, 8, 10].map((m) => m * step).find((m) => m >= n);
}

/**
 * Deliveries over time, stacked by outcome: one bar per bucket of the stats' Series, with
 * counts on the vertical axis and times along the bottom. Described for screen readers by
 * its totals. Hovering a bar, or focusing the chart and moving with the arrow keys, says
 * in words what the bar holds (`format(iso)` writes its time).
 */
export function stackedBars(h, series, format, { height = 160 } = {}) {
  const width = 600;
  const outcomes = stackOrder(Object.keys(series[0]?.Counts ?? {}));
  const top = niceMax(Math.max(0, ...series.map((b) => total(b.Counts))));
  const slot = width / Math.max(1, series.length);
  const gap = Math.min(2, slot * 0.2);
  const describe = (i) => {
    const bucket = series[i];
    const end = series[i + 1]?.Start;
    const what = outcomes.filter((s) => bucket.Counts[s]).map((s) => `${bucket.Counts[s]} ${s}`);
    return `${format(bucket.Start)}${end ? ` to ${format(end).split(" ")[1]}` : ""}: ${what.join(", ") || "no deliveries"}`;
  };
  const readout = h(
    "p",
    { class: "chart-readout muted small", "aria-live": "polite" },
    "Point at a bar, or focus the chart and use ← →, to see what it holds.",
  );
  let selected = -1;
  const select = (i) => {
    if (i < 0 || i >= series.length) return;
    bars[selected]?.classList.remove("selected");
    selected = i;
    bars[i].classList.add("selected");
    readout.textContent = describe(i);
  };
  const bars = series.map((bucket, i) => {
    let y = height;
    const parts = outcomes
      .filter((s) => bucket.Counts[s] > 0)
      .map((s) => {
        const barHeight = (bucket.Counts[s] / top) * height;
        y -= barHeight;
        return svg("rect", {
          class: `bar-${s}`,
          x: (i * slot + gap / 2).toFixed(2),
          y: y.toFixed(2),
          width: (slot - gap).toFixed(2),
          height: barHeight.toFixed(2),
        });
      });
    const g = svg(
      "g",
      { class: "bar-slot", id: `bar-${i}`, role: "img", "aria-label": describe(i) },
      svg("title", {}, describe(i)),
      svg("rect", { class: "bar-hit", x: i * slot, y: 0, width: slot, height }),
      ...parts,
    );
    g.addEventListener("pointerenter", () => select(i));
    return g;
  });
  const sums = Object.fromEntries(outcomes.map((s) => [s, series.reduce((n, b) => n + (b.Counts[s] ?? 0), 0)]));
  const description = `Deliveries over time: ${
    outcomes
      .filter((s) => sums[s])
      .map((s) => `${sums[s]} ${s}`)
      .join(", ") || "none"
  }.`;
  const gridLines = [0.5, 1].map((f) =>
    svg("line", { class: "grid-line", x1: 0, y1: (height - f * height).toFixed(2), x2: width, y2: (height - f * height).toFixed(2) }),
  );
  const chart = svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "group", tabindex: 0, "aria-label": description },
    ...gridLines,
    svg("line", { class: "axis", x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }),
    ...bars,
  );
  chart.addEventListener("focus", () => select(selected < 0 ? series.length - 1 : selected));
  chart.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -selected, End: series.length - 1 - selected }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    select(Math.min(series.length - 1, Math.max(0, selected + step)));
  });
  // Five times along the bottom: the window's ends and three between.
  const ticks = series.length ? [0, 0.25, 0.5, 0.75, 1].map((f) => Math.min(series.length - 1, Math.round(f * (series.length - 1)))) : [];
  return h(
    "div",
    { class: "chart-frame" },
    h("div", { class: "chart-y muted small", "aria-hidden": "true" }, h("span", {}, String(top)), h("span", {}, String(top / 2)), h("span", {}, "0")),
    chart,
    h(
      "div",
      { class: "chart-x muted small", "aria-hidden": "true" },
      ticks.map((i) => h("span", {}, format(series[i].Start))),
    ),
    h("div", { class: "chart-x" }, readout),
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
    // A baseline: a window with no deliveries reads as none, not as an empty cell.
    svg("line", { class: "spark-base", x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5 }),
    ...bars,
  );
}

/** The legend under a chart. */
export function legend(h, statuses) {
  return h(
    "ul",
    { class: "legend" },
    stackOrder(statuses).map((s) => h("li", {}, h("span", { class: `swatch bar-${s}`, "aria-hidden": "true" }), s)),
  );
}

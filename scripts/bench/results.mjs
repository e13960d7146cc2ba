// Each round's figures, per measure and side, and what the report makes of them.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** The rounds recorded: measure name → { project: [figures…], floor: [figures…] }, in the order first recorded. */
export function roundResults() {
  const raw = {};
  return {
    raw,
    record(name, side, values) {
      raw[name] ??= { project: [], floor: [] };
      raw[name][side].push(values);
    },
  };
}

/**
 * The medians of each measure's figures: `summary` (name → figure → { project, floor, ratio })
 * and the table's `rows` ([`name: figure`, project, floor, ratio]).
 */
export function summarize(raw) {
  const rows = [];
  const summary = {};
  for (const [name, { project: p, floor: f }] of Object.entries(raw)) {
    summary[name] = {};
    for (const key of Object.keys(p[0])) {
      const pm = median(p.map((r) => r[key]));
      const fm = median(f.map((r) => r[key]));
      summary[name][key] = { project: pm, floor: fm, ratio: pm / fm };
      rows.push([`${name}: ${key}`, pm, fm, pm / fm]);
    }
  }
  return { summary, rows };
}

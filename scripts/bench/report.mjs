// The bench's verdict: the D1 round-trip tests run, the table of medians, the targets met
// or missed, and bench/results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "../lib/dev-server.mjs";
import { median, summarize } from "./results.mjs";
import { intakeName, ROUNDS, SCENARIOS } from "./workloads.mjs";

/**
 * D1 round trips are counted and asserted by tests in the Workers runtime
 * (test/intake/post-events.test.ts: 1 per event with 1 and 40 channels;
 * test/delivery/batch.test.ts: 2 per consumer batch of 10). The bench runs them and
 * reports whether they hold.
 */
export function d1RoundTripTestsPass() {
  const counted = spawnSync("npx", ["vitest", "run", "test/intake/post-events.test.ts", "test/delivery/batch.test.ts", "-t", "D1 round trips"], {
    cwd: root,
    encoding: "utf8",
  });
  return counted.status === 0;
}

/** Prints the table and the targets, and writes bench/results.json. */
export function report({ raw, filterRatios, countsHold }) {
  const { summary, rows } = summarize(raw);
  const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  console.log(`\nmeasure (median of ${ROUNDS})`.padEnd(44) + "project".padStart(10) + "floor".padStart(10) + "ratio".padStart(8));
  for (const [name, p, f, r] of rows) console.log(name.padEnd(44) + fmt(p).padStart(10) + fmt(f).padStart(10) + r.toFixed(2).padStart(8));
  console.log(
    `\nD1 round trips, as the counting tests assert them: intake 1 per event (1 and 40 channels), consumer 2 per batch of 10: ${countsHold ? "hold" : "FAIL"}`,
  );

  const targets = {
    "intake ≥ 0.9× floor (each scenario)": SCENARIOS.every((s) => summary[intakeName(s)].rps.ratio >= 0.9),
    "deliveries/s ≥ 0.9× floor": summary["delivery burst"].deliveriesPerSecond.ratio >= 0.9,
    "POST → arrival p50 within 10 ms of floor": summary["POST → arrival"].p50.project - summary["POST → arrival"].p50.floor <= 10,
    "≤ 3 D1 round trips per event, ≤ 2 per consumer batch (the counting tests pass)": countsHold,
    "filtered intake (100 filters, half matching) ≥ 0.9× unfiltered": median(filterRatios) >= 0.9,
  };
  console.log(`filtered ÷ unfiltered intake, 100 channels: ${median(filterRatios).toFixed(2)} (runs: ${filterRatios.map((r) => r.toFixed(2)).join(", ")})`);
  for (const [target, met] of Object.entries(targets)) console.log(`${met ? "met    " : "MISSED "} ${target}`);

  mkdirSync(path.join(root, "bench"), { recursive: true });
  writeFileSync(
    path.join(root, "bench/results.json"),
    JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, summary, raw, filterRatios, d1RoundTripTestsPass: countsHold, targets }, null, 2),
  );
  console.log("\nWrote bench/results.json");
}

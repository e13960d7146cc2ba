// Load on one side with autocannon, and an intake run measured until its deliveries have
// arrived, with the CPU it cost in workerd.
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { groupCpuSeconds } from "../lib/cpu.mjs";
import { eventBody } from "./workloads.mjs";

/**
 * `requests` (or `duration` s of) requests to `route`, `connections` at once; each POST a
 * new event of `type`. Throws when over 5% fail. Answers req/s, latency p50/p99 (ms), and
 * the requests accepted and failed.
 * @param {{ name: string, url: string, headers: Record<string, string> }} side
 */
export async function load(side, { type, requests, connections = 10, route = "/events", method = "POST", duration }) {
  // Elapsed time from the start to the last response: autocannon ends a run only on its
  // once-a-second tick, which would round every short run up to whole seconds.
  const started = performance.now();
  let lastResponse = started;
  const result = await autocannon({
    url: `${side.url}${route}`,
    method,
    connections,
    timeout: 30,
    ...(duration ? { duration } : { amount: requests }),
    headers: method === "POST" ? side.headers : {},
    requests: [
      {
        ...(method === "POST" ? { setupRequest: (req) => ({ ...req, body: eventBody(type).body }) } : {}),
        onResponse: () => {
          lastResponse = performance.now();
        },
      },
    ],
  });
  const failures = result.non2xx + result.errors;
  if (failures > 0.05 * result.requests.total) throw new Error(`${side.name} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const accepted = result["2xx"];
  return { rps: accepted / ((lastResponse - started) / 1000), p50: result.latency.p50, p99: result.latency.p99, accepted, failures };
}

/** workerd's CPU (ms) per unit since `before` (a groupCpuSeconds reading of the side). */
export const workerdCpuMs = (side, before, units) => ((groupCpuSeconds(side.pid).workerd - before.workerd) * 1000) / units;

/**
 * An intake run, measured until its deliveries have arrived. The local runtime now and then
 * stalls for many seconds (seen on both sides, in wrangler's own plumbing); a run it hit
 * has failed requests, and is repeated once the stall has passed (at most twice).
 * @param {Awaited<ReturnType<import("./receiver.mjs").startBenchReceiver>>} receiver
 */
export async function intakeRun(side, scenario, receiver) {
  for (let attempt = 1; ; attempt++) {
    const before = receiver.counts[side.name];
    const cpuBefore = groupCpuSeconds(side.pid);
    let r;
    try {
      r = await load(side, scenario);
    } catch (err) {
      if (attempt === 3) throw err;
      console.log(`  (${err.message}: a stall; the run is repeated)`);
      await sleep(30_000);
      continue;
    }
    if (!(await receiver.drained(side.name, before + r.accepted * scenario.channels))) console.log(`  (${side.name} had not drained in 120 s)`);
    // The CPU each event cost, its deliveries included, in workerd (the worker, D1, Queues).
    r.cpuMsPerEvent = workerdCpuMs(side, cpuBefore, r.accepted);
    if (!r.failures || attempt === 3) return r;
    console.log(`  (${side.name}: ${r.failures} requests failed in a stall; the run is repeated)`);
    await sleep(10_000);
  }
}

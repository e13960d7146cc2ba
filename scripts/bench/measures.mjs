// The measures, each over ROUNDS rounds, the two sides taking turns: intake (and the
// project's filters against itself), GET /healthz, a delivery burst, POST → arrival.
import { setTimeout as sleep } from "node:timers/promises";
import { groupCpuSeconds } from "../lib/cpu.mjs";
import { intakeRun, load, workerdCpuMs } from "./load.mjs";
import { percentile } from "./results.mjs";
import { BURST, eventBody, FILTERS, intakeName, LIGHT, ROUNDS, SCENARIOS } from "./workloads.mjs";

/**
 * @typedef {{ sides: Awaited<ReturnType<import("./sides.mjs").startSides>>,
 *   receiver: Awaited<ReturnType<import("./receiver.mjs").startBenchReceiver>>,
 *   record: (name: string, side: string, values: object) => void }} Bench
 */

/** Which side goes first: they alternate, so neither always runs on a warmer machine. */
const inTurn = (round) => (round % 2 ? ["floor", "project"] : ["project", "floor"]);

/** Intake throughput and latency with 1, 10 and 100 channels. @param {Bench} bench */
export async function measureIntake({ sides, receiver, record }) {
  for (const scenario of SCENARIOS) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of inTurn(round)) {
        const name = intakeName(scenario);
        const { accepted, failures, ...r } = await intakeRun(sides[side], scenario, receiver);
        record(name, side, r);
        console.log(`  ${name} [${side}]: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, workerd CPU ${r.cpuMsPerEvent.toFixed(1)} ms/event`);
      }
    }
  }
}

/** Filters: the project against itself, alternating. Each round's filtered ÷ unfiltered req/s. @param {Bench} bench */
export async function measureFilters({ sides, receiver }) {
  const filterRatios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const rps = {};
    for (const scenario of round % 2 ? [...FILTERS].reverse() : FILTERS) {
      const r = await intakeRun(sides.project, scenario, receiver);
      rps[scenario.filtered] = r.rps;
      console.log(`  ${scenario.name} [project]: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, workerd CPU ${r.cpuMsPerEvent.toFixed(1)} ms/event`);
    }
    filterRatios.push(rps.true / rps.false);
  }
  return filterRatios;
}

/** @param {Bench} bench */
export async function measureHealthz({ sides, record }) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ["project", "floor"]) {
      const { rps, p50, p99 } = await load(sides[side], { route: "/healthz", method: "GET", duration: 3 });
      record("GET /healthz", side, { rps, p50, p99 });
    }
  }
}

/** A delivery burst: first post to last arrival. @param {Bench} bench */
export async function measureBurst({ sides, receiver, record }) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of inTurn(round)) {
      const before = receiver.counts[side];
      const cpuBefore = groupCpuSeconds(sides[side].pid);
      const started = performance.now();
      const { accepted } = await load(sides[side], { type: BURST.type, requests: BURST.events, connections: 20 });
      if (!(await receiver.drained(side, before + accepted))) throw new Error(`${side}: the burst did not drain`);
      const seconds = (performance.now() - started) / 1000;
      const cpuMsPerDelivery = workerdCpuMs(sides[side], cpuBefore, accepted);
      record("delivery burst", side, { deliveriesPerSecond: accepted / seconds, seconds, cpuMsPerDelivery });
      console.log(`  delivery burst [${side}]: ${accepted} in ${seconds.toFixed(2)} s, workerd CPU ${cpuMsPerDelivery.toFixed(1)} ms/delivery`);
    }
  }
}

/** POST → arrival at light load: one event at a time, timed until the receiver has it. @param {Bench} bench */
export async function measureArrival({ sides, receiver, record }) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of ["project", "floor"]) {
      const latencies = [];
      for (let i = 0; i < LIGHT.events; i++) {
        const { marker, body } = eventBody(LIGHT.type);
        const sent = performance.now();
        const res = await fetch(`${sides[side].url}/events`, { method: "POST", headers: sides[side].headers, body });
        await res.arrayBuffer();
        const deadline = Date.now() + 10_000;
        while (!receiver.arrivals[side].has(marker) && Date.now() < deadline) await sleep(1);
        latencies.push(receiver.arrivals[side].get(marker) - sent);
        await sleep(LIGHT.gapMs);
      }
      record("POST → arrival", side, { p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
      console.log(`  POST → arrival [${side}]: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
    }
  }
}

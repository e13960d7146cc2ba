#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
// `npm run bench`: the project against the floor (../shared/bench/floor: the least work this
// design can do), in the same run, against the same receiver, alternating. Prints a table of
// medians and writes bench/results.json. Local D1 and Queues are simulated: read the ratios.
import autocannon from "autocannon";
import { groupCpuSeconds } from "./lib/cpu.mjs";
import { adminClient, root, startDispatcher, startFloor } from "./lib/dev-server.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCENARIOS = [
  { channels: 1, type: "ApplicationRegistered", requests: 800 },
  { channels: 10, type: "CredentialRegistered", requests: 400 },
  { channels: 100, type: "OrganisationRegistered", requests: 100 },
];
const BURST = { type: "UserRegistered", events: 500 };
// Routing: 100 channels each with a filter, half of them matching (the project only),
// against 100 channels without one, in the same run.
const FILTERS = [
  { name: "intake, 100 channels, no filters", type: "PasswordReset", channels: 100, filtered: false, requests: 100 },
  { name: "intake, 100 filtered channels, half matching", type: "UserAccountDeactivated", channels: 50, filtered: true, requests: 100 },
];
const LIGHT = { type: "UserRegistered", events: 60, gapMs: 25 };

// --- the receiver: answers 200 at once, notes when each marked body arrives -------------
const arrivals = { project: new Map(), floor: new Map() };
const counts = { project: 0, floor: 0 };
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const side = req.url.startsWith("/floor") ? "floor" : "project";
    counts[side]++;
    const marker = /bench-[\w-]+/.exec(Buffer.concat(chunks).toString("latin1"))?.[0];
    if (marker && !arrivals[side].has(marker)) arrivals[side].set(marker, performance.now());
    res.writeHead(200).end();
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const sink = `http://127.0.0.1:${receiver.address().port}`;

console.log("Starting the project and the floor (wrangler dev, fresh state)…");
const [project, floor] = await Promise.all([startDispatcher(), startFloor(`${sink}/floor`)]);
const admin = adminClient(project);
const sides = {
  project: { url: project.url, pid: project.pid, headers: { Authorization: `Bearer ${project.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" } },
  floor: { url: floor.url, pid: floor.pid, headers: { "Content-Type": "application/json" } },
};

// Channels: the same subscriptions on both sides, all delivering to the receiver.
let channelNo = 0;
for (const { type, channels } of [...SCENARIOS, BURST]) {
  const n = type === BURST.type ? 1 : channels;
  for (let i = 0; i < n; i++) {
    channelNo++;
    await admin("POST", "/webhooks", { Name: `bench ${channelNo}`, URL: `${sink}/project/${channelNo}`, Events: [type] });
    await fetch(`${floor.url}/channels`, { method: "POST", body: JSON.stringify({ id: `c${channelNo}`, event: type }) });
  }
}

for (const { type, filtered } of FILTERS) {
  for (let i = 0; i < 100; i++) {
    channelNo++;
    const Filter = filtered ? { "Message.OrgID": i % 2 ? 2 : 1 } : null;
    await admin("POST", "/webhooks", { Name: `bench ${channelNo}`, URL: `${sink}/project/${channelNo}`, Events: [type], Filter });
  }
}

let serial = 0;
function eventBody(type) {
  const n = ++serial;
  const marker = `bench-${n}-${Date.now()}`;
  const at = new Date().toISOString();
  const messages = {
    ApplicationRegistered: { ID: n, Name: marker, UserID: 1, CreatedAt: at },
    CredentialRegistered: { ID: n, ByUser: 3, AccessRequestID: 1, AppID: 3, CreatedAt: at, Note: marker },
    OrganisationRegistered: { ID: n, Name: marker, CreatedAt: at },
    UserRegistered: {
      ID: n,
      Email: `${marker}@example.com`,
      First: "Bench",
      Last: "Mark",
      OrgID: 1,
      Provider: "password",
      Status: "active",
      CreatedAt: at,
      ByUser: 1,
      CustomAttributes: [],
    },
  };
  messages.PasswordReset = messages.UserRegistered;
  messages.UserAccountDeactivated = messages.UserRegistered;
  return { marker, body: JSON.stringify({ Event: type, Message: messages[type], Timestamp: at }) };
}

async function drained(side, expected, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (counts[side] < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return counts[side] >= expected;
}

async function load(side, { type, requests, connections = 10, route = "/events", method = "POST", duration }) {
  // Elapsed time from the start to the last response: autocannon ends a run only on its
  // once-a-second tick, which would round every short run up to whole seconds.
  const started = performance.now();
  let lastResponse = started;
  const result = await autocannon({
    url: `${sides[side].url}${route}`,
    method,
    connections,
    timeout: 30,
    ...(duration ? { duration } : { amount: requests }),
    headers: method === "POST" ? sides[side].headers : {},
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
  if (failures > 0.05 * result.requests.total) throw new Error(`${side} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const accepted = result["2xx"];
  return { rps: accepted / ((lastResponse - started) / 1000), p50: result.latency.p50, p99: result.latency.p99, accepted, failures };
}

/**
 * An intake run, measured until its deliveries have arrived. The local runtime now and then
 * stalls for many seconds (seen on both sides, in wrangler's own plumbing); a run it hit
 * has failed requests, and is repeated once the stall has passed (at most twice).
 */
async function intakeRun(side, scenario) {
  for (let attempt = 1; ; attempt++) {
    const before = counts[side];
    const cpuBefore = groupCpuSeconds(sides[side].pid);
    let r;
    try {
      r = await load(side, scenario);
    } catch (err) {
      if (attempt === 3) throw err;
      console.log(`  (${err.message}: a stall; the run is repeated)`);
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      continue;
    }
    if (!(await drained(side, before + r.accepted * scenario.channels))) console.log(`  (${side} had not drained in 120 s)`);
    // The CPU each event cost, its deliveries included, in workerd (the worker, D1, Queues).
    r.cpuMsPerEvent = ((groupCpuSeconds(sides[side].pid).workerd - cpuBefore.workerd) * 1000) / r.accepted;
    if (!r.failures || attempt === 3) return r;
    console.log(`  (${side}: ${r.failures} requests failed in a stall; the run is repeated)`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const results = {};
function record(name, side, values) {
  results[name] ??= { project: [], floor: [] };
  results[name][side].push(values);
}

// --- intake throughput and latency ------------------------------------------------------
for (const scenario of SCENARIOS) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? ["floor", "project"] : ["project", "floor"]) {
      const name = `intake, ${scenario.channels} channel${scenario.channels > 1 ? "s" : ""}`;
      const { accepted, failures, ...r } = await intakeRun(side, scenario);
      record(name, side, r);
      console.log(`  ${name} [${side}]: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, workerd CPU ${r.cpuMsPerEvent.toFixed(1)} ms/event`);
    }
  }
}
// Filters: the project against itself, alternating.
const filterRatios = [];
for (let round = 0; round < ROUNDS; round++) {
  const rps = {};
  for (const scenario of round % 2 ? [...FILTERS].reverse() : FILTERS) {
    const r = await intakeRun("project", scenario);
    rps[scenario.filtered] = r.rps;
    console.log(`  ${scenario.name} [project]: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, workerd CPU ${r.cpuMsPerEvent.toFixed(1)} ms/event`);
  }
  filterRatios.push(rps.true / rps.false);
}
for (let round = 0; round < ROUNDS; round++) {
  for (const side of ["project", "floor"]) {
    const { rps, p50, p99 } = await load(side, { route: "/healthz", method: "GET", duration: 3 });
    record("GET /healthz", side, { rps, p50, p99 });
  }
}

// --- a delivery burst: first post to last arrival ---------------------------------------
for (let round = 0; round < ROUNDS; round++) {
  for (const side of round % 2 ? ["floor", "project"] : ["project", "floor"]) {
    const before = counts[side];
    const cpuBefore = groupCpuSeconds(sides[side].pid);
    const started = performance.now();
    const { accepted } = await load(side, { type: BURST.type, requests: BURST.events, connections: 20 });
    if (!(await drained(side, before + accepted))) throw new Error(`${side}: the burst did not drain`);
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerDelivery = ((groupCpuSeconds(sides[side].pid).workerd - cpuBefore.workerd) * 1000) / accepted;
    record("delivery burst", side, { deliveriesPerSecond: accepted / seconds, seconds, cpuMsPerDelivery });
    console.log(`  delivery burst [${side}]: ${accepted} in ${seconds.toFixed(2)} s, workerd CPU ${cpuMsPerDelivery.toFixed(1)} ms/delivery`);
  }
}

// --- POST → arrival at light load -------------------------------------------------------
for (let round = 0; round < ROUNDS; round++) {
  for (const side of ["project", "floor"]) {
    const latencies = [];
    for (let i = 0; i < LIGHT.events; i++) {
      const { marker, body } = eventBody(LIGHT.type);
      const sent = performance.now();
      const res = await fetch(`${sides[side].url}/events`, { method: "POST", headers: sides[side].headers, body });
      await res.arrayBuffer();
      const deadline = Date.now() + 10_000;
      while (!arrivals[side].has(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      latencies.push(arrivals[side].get(marker) - sent);
      await new Promise((r) => setTimeout(r, LIGHT.gapMs));
    }
    record("POST → arrival", side, { p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
    console.log(`  POST → arrival [${side}]: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  }
}

await Promise.all([project.stop(), floor.stop()]);
receiver.close();

// --- D1 round trips: counted and asserted by tests in the Workers runtime ----------------
// (test/intake/post-events.test.ts: 1 per event with 1 and 40 channels; test/delivery/batch.test.ts: 2 per
// consumer batch of 10.) The bench runs them and reports whether they hold.
const counted = spawnSync("npx", ["vitest", "run", "test/intake/post-events.test.ts", "test/delivery/batch.test.ts", "-t", "D1 round trips"], {
  cwd: root,
  encoding: "utf8",
});
const countsHold = counted.status === 0;

// --- report ------------------------------------------------------------------------------
const rows = [];
const summary = {};
for (const [name, { project: p, floor: f }] of Object.entries(results)) {
  const keys = Object.keys(p[0]);
  summary[name] = {};
  for (const key of keys) {
    const pm = median(p.map((r) => r[key]));
    const fm = median(f.map((r) => r[key]));
    summary[name][key] = { project: pm, floor: fm, ratio: pm / fm };
    rows.push([`${name}: ${key}`, pm, fm, pm / fm]);
  }
}
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
console.log(`\nmeasure (median of ${ROUNDS})`.padEnd(44) + "project".padStart(10) + "floor".padStart(10) + "ratio".padStart(8));
for (const [name, p, f, r] of rows) console.log(name.padEnd(44) + fmt(p).padStart(10) + fmt(f).padStart(10) + r.toFixed(2).padStart(8));
console.log(
  `\nD1 round trips, as the counting tests assert them: intake 1 per event (1 and 40 channels), consumer 2 per batch of 10: ${countsHold ? "hold" : "FAIL"}`,
);

const targets = {
  "intake ≥ 0.9× floor (each scenario)": SCENARIOS.every((s) => summary[`intake, ${s.channels} channel${s.channels > 1 ? "s" : ""}`].rps.ratio >= 0.9),
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
  JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, summary, raw: results, filterRatios, d1RoundTripTestsPass: countsHold, targets }, null, 2),
);
console.log("\nWrote bench/results.json");

#!/usr/bin/env node
// `npm run soak [-- --events 2000]`: proves nothing is lost. N events × 3 channels go through
// a receiver that fails on purpose (500 for 30%, a hang past the timeout for 5%, 429 with
// Retry-After: 1 for 5%, a reset connection for 2%), with a short retry schedule, and the
// worker is killed and restarted once mid-run (its in-memory queue lost with it). At the end
// every accepted delivery must be `succeeded` with an arrival, or `failed` with its attempts.
// A fourth channel is paused (and rate-limited) from the start, holds its deliveries through
// the restart, and is resumed mid-run: what it held must come through too.
// `--d1-faults`: the worker runs test/faults/worker.ts (the same worker, its D1 binding
// wrapped): 5% of D1 calls fail throughout (half of them after D1 committed), and the whole
// database is down for 30 s in the middle, after the restart (the local queue is in memory:
// a kill during the outage would lose the parked events that Queues keeps in production).
import http from "node:http";
import { parseArgs } from "node:util";
import { adminClient, startDispatcher } from "./lib/dev-server.mjs";

const { values: opts } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "10" },
    schedule: { type: "string", default: "1,1,2,2,3,3,5,5" },
    "max-minutes": { type: "string", default: "15" },
    "d1-faults": { type: "boolean", default: false },
  },
});
const FAULTS = opts["d1-faults"];
const FAULT_SHARE = 0.05;
const OUTAGE_SECONDS = 30;
const EVENTS = Number(opts.events);

// --- the unreliable receiver ------------------------------------------------------------
const arrivals = new Map(); // "<webhook-id> <path>" → number of 200s sent
const tally = { requests: 0, ok: 0, error500: 0, hang: 0, tooMany: 0, reset: 0 };
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    tally.requests++;
    const roll = Math.random();
    const outcome = roll < 0.3 ? "error500" : roll < 0.35 ? "hang" : roll < 0.4 ? "tooMany" : roll < 0.42 ? "reset" : "ok";
    tally[outcome]++;
    if (outcome === "error500") return res.writeHead(500).end("try again");
    if (outcome === "hang") return setTimeout(() => res.writeHead(200).end("too late"), 2500);
    if (outcome === "tooMany") return res.writeHead(429, { "Retry-After": "1" }).end("slow down");
    if (outcome === "reset") return req.socket.destroy();
    const key = `${req.headers["webhook-id"]} ${req.url}`;
    arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
    res.writeHead(200).end("ok");
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverBase = `http://127.0.0.1:${receiver.address().port}`;

// --- the dispatcher ---------------------------------------------------------------------
let worker = await startDispatcher(
  { RETRY_SCHEDULE: opts.schedule, LOST_AFTER_SECONDS: "10,10" },
  { log: Boolean(process.env.SOAK_LOG), main: FAULTS ? "test/faults/worker.ts" : undefined },
);
// Admin calls are tried again, as an operator would: under D1 faults some fail, and during
// the outage all do.
const admin = () => async (method, route, body) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await adminClient(worker)(method, route, body);
    } catch (err) {
      if (attempt >= 90) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
};
/** Sets the D1 faults of the running worker (test/faults/worker.ts); what failed so far. */
async function faults(change) {
  const res = await fetch(`${worker.url}/__faults`, {
    method: change ? "POST" : "GET",
    headers: { Authorization: `Bearer ${worker.vars.ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: change ? JSON.stringify(change) : undefined,
  });
  return res.json();
}
const channels = [];
for (let i = 1; i <= 3; i++) {
  channels.push(await admin()("POST", "/webhooks", { Name: `soak ${i}`, URL: `${receiverBase}/c${i}`, Events: ["UserRegistered"], Timeout: 1 }));
}
const paused = await admin()("POST", "/webhooks", {
  Name: "soak paused",
  URL: `${receiverBase}/paused`,
  Events: ["UserRegistered"],
  Timeout: 1,
  Paused: true,
  RateLimit: 100,
});
channels.push(paused);
const CHANNELS = channels.length;
// Production runs the sweeper every minute; the soak runs it every 3 seconds.
let sweeps = 0;
const sweeper = setInterval(() => {
  fetch(`${worker.url}/__scheduled`).then(
    () => sweeps++,
    () => {},
  );
}, 3000);

if (FAULTS) await faults({ share: FAULT_SHARE });
const faultTally = { before: 0, after: 0, outage: 0 };
const addFaults = ({ failed }) => {
  for (const k of Object.keys(faultTally)) faultTally[k] += failed[k];
};

const started = Date.now();
const accepted = [];
/** Events answered 202 with Deliveries null: parked on the storing queue, stored later. */
const parked = new Set();
let refused503 = 0;
let next = 0;
async function post(until) {
  const one = async () => {
    while (next < until) {
      const i = next++;
      const body = JSON.stringify({
        Event: "UserRegistered",
        Message: {
          ID: i,
          Email: `soak-${i}-${started}@example.com`,
          First: "Soak",
          Last: "Test",
          OrgID: 1,
          Provider: "password",
          Status: "active",
          CreatedAt: new Date().toISOString(),
          ByUser: 1,
          CustomAttributes: [],
        },
        Timestamp: new Date().toISOString(),
      });
      let res;
      for (;;) {
        res = await fetch(`${worker.url}/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${worker.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
          body,
        });
        // Neither D1 nor the queue took it: send it again later, as the portal would.
        if (res.status !== 503) break;
        refused503++;
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (res.status !== 202) throw new Error(`event ${i}: ${res.status} ${await res.text()}`);
      const answer = await res.json();
      accepted.push(answer.ID);
      if (answer.Deliveries === null) parked.add(answer.ID);
    }
  };
  await Promise.all(Array.from({ length: Number(opts.concurrency) }, one));
}

console.log(`soak: ${EVENTS} events × ${CHANNELS} channels (one paused, then resumed), schedule ${opts.schedule}, receiver failing ~42% of requests`);
await post(Math.floor(EVENTS / 2));
const backlog = await pendingCount();
console.log(`  ${accepted.length} accepted; killing the worker with ${backlog} deliveries not yet done, and starting it again`);
if (FAULTS) addFaults(await faults());
worker = await worker.restart();
if (FAULTS) {
  // The new isolate starts with no faults: 5% again, and the outage now, while events arrive.
  await faults({ share: FAULT_SHARE, outageSeconds: OUTAGE_SECONDS });
  console.log(`  D1 down for ${OUTAGE_SECONDS} s from now, and ${FAULT_SHARE * 100}% of D1 calls failing throughout`);
}
await post(Math.floor((3 * EVENTS) / 4));
if (FAULTS) {
  const { failed, outageUntil } = await faults();
  const left = Math.max(0, (outageUntil - Date.now()) / 1000).toFixed(0);
  console.log(
    `  ${parked.size} events accepted onto the storing queue so far (202, Deliveries null); ${failed.outage} D1 calls refused by the outage, ${left} s of it left`,
  );
}
const held = (await admin()("GET", `/stats?webhook_id=${paused.ID}`)).Counts.held;
console.log(`  resuming the paused channel, which holds ${held} deliveries`);
await admin()("PATCH", `/webhooks/${paused.ID}`, { Paused: false });
await post(EVENTS);
console.log(`  ${accepted.length} accepted in ${((Date.now() - started) / 1000).toFixed(1)} s; draining…`);

// --- drain and account ------------------------------------------------------------------
const deadline = started + Number(opts["max-minutes"]) * 60_000;
const unstored = new Set(parked);
while ((await pendingCount()) > 0 || (await stillParked()) > 0) {
  if (Date.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 2000));
}
const drainSeconds = (Date.now() - started) / 1000;
clearInterval(sweeper);
// Live deliveries left when the run ended (the sweeper had its chance): stuck.
const stuck = await pendingCount();
if (FAULTS) {
  addFaults(await faults({ share: 0 }));
  console.log(`  D1 calls failed on purpose: ${faultTally.before} before running, ${faultTally.after} after committing, ${faultTally.outage} in the outage`);
}

const deliveries = [];
for (const channel of channels) {
  for (let page = 1; ; page++) {
    const rows = await admin()("GET", `/webhooks/${channel.ID}/deliveries?per_page=100&page=${page}`);
    deliveries.push(...rows.map((d) => ({ ...d, path: new URL(channel.URL).pathname })));
    if (rows.length < 100) break;
  }
}
const byKey = new Map(deliveries.map((d) => [`${d.EventID} ${d.path}`, d]));
let succeeded = 0,
  failed = 0,
  lost = 0,
  attempts = 0;
for (const id of accepted) {
  for (const channel of channels) {
    const key = `${id} ${new URL(channel.URL).pathname}`;
    const d = byKey.get(key);
    attempts += d?.AttemptCount ?? 0;
    if (d?.Status === "succeeded" && arrivals.get(key) >= 1) succeeded++;
    else if (d?.Status === "failed" && d.AttemptCount > 0) failed++;
    else {
      lost++;
      if (lost <= 5) console.log(`  LOST ${key}: ${d ? `${d.Status}, ${d.AttemptCount} attempts, ${arrivals.get(key) ?? 0} arrivals` : "no delivery row"}`);
    }
  }
}
const duplicates = [...arrivals.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
await worker.stop();
receiver.close();

const expected = accepted.length * CHANNELS;
const result = {
  d1Faults: FAULTS,
  events: accepted.length,
  parked: parked.size,
  refused503,
  stuck,
  d1CallsFailed: FAULTS ? faultTally : undefined,
  deliveries: expected,
  succeeded,
  failed,
  lost,
  duplicates,
  attempts,
  sweeps,
  drainSeconds: Number(drainSeconds.toFixed(1)),
  receiver: tally,
};
console.log(`
  accepted deliveries  ${expected}
  succeeded (arrived)  ${succeeded}
  failed (attempted)   ${failed}
  lost                 ${lost}
  stuck                ${stuck}   (live deliveries left at the end)
  parked, stored later ${parked.size}   (events accepted with Deliveries null; ${refused503} answers were 503)
  duplicates           ${duplicates}   (extra 200s for one webhook-id and channel)
  attempts             ${attempts}   (receiver saw ${tally.requests}: ${tally.ok} ok, ${tally.error500} 500, ${tally.hang} hung, ${tally.tooMany} 429, ${tally.reset} reset)
  time to drain        ${drainSeconds.toFixed(1)} s
`);
console.log(`SOAK ${JSON.stringify(result)}`);
const passed = lost === 0 && stuck === 0;
console.log(passed ? "soak: 1 passed, 0 failed" : "soak: 0 passed, 1 failed");
process.exit(passed ? 0 : 1);

/** Parked events not stored yet (an event's page answers 404 until it is). */
async function stillParked() {
  for (const id of [...unstored]) {
    const res = await fetch(`${worker.url}/portal-api/events/${id}`, { headers: { Authorization: `Bearer ${worker.vars.ADMIN_TOKEN}` } });
    if (res.ok) unstored.delete(id);
  }
  return unstored.size;
}

async function pendingCount() {
  let n = 0;
  for (const channel of channels) {
    for (const status of ["pending", "retrying", "held"]) {
      n += (await admin()("GET", `/webhooks/${channel.ID}/deliveries?status=${status}&per_page=100`)).length;
    }
  }
  return n;
}

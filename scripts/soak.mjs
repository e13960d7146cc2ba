#!/usr/bin/env node
// `npm run soak [-- --events 2000]`: proves nothing is lost. N events × 3 channels go through
// a receiver that fails on purpose (500 for 30%, a hang past the timeout for 5%, 429 with
// Retry-After: 1 for 5%, a reset connection for 2%), with a short retry schedule, and the
// worker is killed and restarted once mid-run (its in-memory queue lost with it). At the end
// every accepted delivery must be `succeeded` with an arrival, or `failed` with its attempts.
// A fourth channel is paused (and rate-limited) from the start, holds its deliveries through
// the restart, and is resumed mid-run: what it held must come through too.
// A fifth channel is ordered by `Message.ID` (the events spread over 20 values): per lane,
// an event must never arrive before the one received before it in that lane got its final
// answer (`order violations`, which must be 0 like `lost`).
// `--d1-faults`: the worker runs test/faults/worker.ts (the same worker, its D1 binding
// wrapped): 5% of D1 calls fail throughout (half of them after D1 committed), and the whole
// database is down for 30 s in the middle, after the restart (the local queue is in memory:
// a kill during the outage would lose the parked events that Queues keeps in production).
import { spawnSync } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { adminClient, freePort, root, startDispatcher } from "./lib/dev-server.mjs";

const wallStarted = performance.now();

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
/** The ordered channel's lanes: Message.ID runs over 1..LANES, so each lane has several events. */
const LANES = 20;
/** Every channel's Timeout (s): a hung request has ended, for the dispatcher, this long after it arrived. */
const TIMEOUT_SECONDS = 1;

// --- the unreliable receiver ------------------------------------------------------------
const arrivals = new Map(); // "<webhook-id> <path>" → number of 200s sent
const tally = { requests: 0, ok: 0, error500: 0, hang: 0, tooMany: 0, reset: 0 };
/** The ordered channel's arrivals, every one: { id (webhook-id), lane, at, answeredAt, outcome } (ms, performance.now()). */
const ordered = [];
/** Each path's last 200 (performance.now()): when each channel was drained. */
const lastSuccess = new Map();
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const at = performance.now();
    tally.requests++;
    const roll = Math.random();
    const outcome = roll < 0.3 ? "error500" : roll < 0.35 ? "hang" : roll < 0.4 ? "tooMany" : roll < 0.42 ? "reset" : "ok";
    tally[outcome]++;
    const arrival =
      req.url === "/ordered" ? { id: req.headers["webhook-id"], lane: JSON.parse(Buffer.concat(chunks).toString()).Message?.ID, at, outcome } : {};
    if (req.url === "/ordered") ordered.push(arrival);
    // Answered when the response is out, or the connection gone (a reset, a killed worker).
    const answered = () => {
      arrival.answeredAt ??= performance.now();
    };
    res.once("finish", answered);
    res.once("close", answered);
    if (outcome === "error500") return res.writeHead(500).end("try again");
    if (outcome === "hang") return setTimeout(() => res.writeHead(200).end("too late"), 2500);
    if (outcome === "tooMany") return res.writeHead(429, { "Retry-After": "1" }).end("slow down");
    if (outcome === "reset") return req.socket.destroy();
    const key = `${req.headers["webhook-id"]} ${req.url}`;
    arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
    lastSuccess.set(req.url, at);
    res.writeHead(200).end("ok");
  });
});
const receiverPort = await freePort();
await new Promise((resolve) => receiver.listen(receiverPort, "127.0.0.1", resolve));
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
  channels.push(await admin()("POST", "/webhooks", { Name: `soak ${i}`, URL: `${receiverBase}/c${i}`, Events: ["UserRegistered"], Timeout: TIMEOUT_SECONDS }));
}
const paused = await admin()("POST", "/webhooks", {
  Name: "soak paused",
  URL: `${receiverBase}/paused`,
  Events: ["UserRegistered"],
  Timeout: TIMEOUT_SECONDS,
  Paused: true,
  RateLimit: 100,
});
channels.push(paused);
const orderedChannel = await admin()("POST", "/webhooks", {
  Name: "soak ordered",
  URL: `${receiverBase}/ordered`,
  Events: ["UserRegistered"],
  Timeout: TIMEOUT_SECONDS,
  Ordering: { Key: "Message.ID" },
});
channels.push(orderedChannel);
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
const startedPerf = performance.now();
const accepted = [];
/** Each accepted event's lane on the ordered channel (its Message.ID). */
const laneOf = new Map();
/** Events answered 202 with Deliveries null: parked on the storing queue, stored later. */
const parked = new Set();
/**
 * Which of the order violations found (their positions) involve an event parked during
 * the D1 outage: its deliveries exist only once it is stored, after events of its lane
 * received later may have been delivered (README, Flow control: a known limit). Reported apart.
 */
const outageReordered = new Set();
let refused503 = 0;
let next = 0;
async function post(until) {
  const one = async () => {
    while (next < until) {
      const i = next++;
      const body = JSON.stringify({
        Event: "UserRegistered",
        Message: {
          // The ordered channel's lane: LANES values, each taken by every LANES-th event.
          ID: (i % LANES) + 1,
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
      laneOf.set(answer.ID, (i % LANES) + 1);
      if (answer.Deliveries === null) parked.add(answer.ID);
    }
  };
  await Promise.all(Array.from({ length: Number(opts.concurrency) }, one));
}

console.log(
  `soak: ${EVENTS} events × ${CHANNELS} channels (one paused, then resumed; one ordered, ${LANES} lanes), schedule ${opts.schedule}, receiver failing ~42% of requests`,
);
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
const orderedDuplicates = [...arrivals].reduce((sum, [key, n]) => sum + (key.endsWith(" /ordered") ? Math.max(0, n - 1) : 0), 0);
const found = orderViolations();
// Events parked during the outage join their lanes when stored: reported, not failed (README).
const reordered = found.filter((_, i) => outageReordered.has(i));
const violations = found.filter((_, i) => !outageReordered.has(i));
for (const v of reordered.slice(0, 5)) console.log(`  STORED LATE ${v}`);
for (const v of violations.slice(0, 10)) console.log(`  ORDER ${v}`);
if (violations.length || stuck) showLanes(violations);
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
  orderViolations: violations.length,
  reorderedByOutage: reordered.length,
  orderedArrivals: ordered.length,
  orderedDuplicates,
  attempts,
  sweeps,
  drainSeconds: Number(drainSeconds.toFixed(1)),
  wallSeconds: Number(((performance.now() - wallStarted) / 1000).toFixed(1)),
  drainedAt: Object.fromEntries([...lastSuccess].map(([p, at]) => [p, Number(((at - startedPerf) / 1000).toFixed(1))])),
  receiver: tally,
};
console.log(`
  accepted deliveries  ${expected}
  succeeded (arrived)  ${succeeded}
  failed (attempted)   ${failed}
  lost                 ${lost}
  stuck                ${stuck}   (live deliveries left at the end)
  parked, stored later ${parked.size}   (events accepted with Deliveries null; ${refused503} answers were 503)
  duplicates           ${duplicates}   (extra 200s for one webhook-id and channel; ${orderedDuplicates} on the ordered channel)
  order violations     ${violations.length}   (ordered channel, ${LANES} lanes, ${ordered.length} arrivals: an event arriving before the one received before it in its lane had its final answer)
  reordered by outage  ${reordered.length}   (an event parked during the D1 outage, delivered once stored: after later events of its lane)
  attempts             ${attempts}   (receiver saw ${tally.requests}: ${tally.ok} ok, ${tally.error500} 500, ${tally.hang} hung, ${tally.tooMany} 429, ${tally.reset} reset)
  time to drain        ${drainSeconds.toFixed(1)} s   (wall time ${result.wallSeconds} s; last success per path, s: ${Object.entries(result.drainedAt)
    .map(([p, s]) => `${p} ${s}`)
    .join(", ")})
`);
console.log(`SOAK ${JSON.stringify(result)}`);
const passed = lost === 0 && stuck === 0 && violations.length === 0;
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

/**
 * The ordered channel's arrivals that broke their lane's order, described. Per lane, events
 * rank by their ids (the order of receipt). An arrival breaks it if an event ranked before
 * it had arrived later (arrivals must not go back in rank: a repeated arrival of an event,
 * at least once, is a duplicate only while no later event has arrived), or if an arrival
 * of an event ranked before it had not been answered yet (for the dispatcher a hung
 * request ends at its timeout).
 */
function orderViolations() {
  outageReordered.clear();
  const rank = new Map();
  const lanes = groupBy([...laneOf.keys()].sort(), (id) => laneOf.get(id));
  for (const ids of lanes.values()) {
    for (const [n, id] of ids.entries()) rank.set(id, n);
  }
  const ended = (a) => (a.outcome === "hang" ? a.at + TIMEOUT_SECONDS * 1000 : (a.answeredAt ?? Number.POSITIVE_INFINITY));
  const at = (ms) => `${((ms - startedPerf) / 1000).toFixed(3)} s`;
  const found = [];
  for (const [lane, list] of groupBy(ordered, (a) => a.lane)) {
    list.sort((a, b) => a.at - b.at);
    let highest;
    list.forEach((a, n) => {
      const r = rank.get(a.id);
      if (r === undefined) {
        found.push(`lane ${lane}: ${a.id} arrived at ${at(a.at)} but was never accepted`);
        return;
      }
      if (highest && r < rank.get(highest.id)) {
        const late = parked.has(a.id) ? " (it was parked on the storing queue: stored late)" : "";
        found.push(
          `lane ${lane}: event #${r} ${a.id} arrived at ${at(a.at)} (${a.outcome}) after event #${rank.get(highest.id)} ${highest.id} had arrived at ${at(highest.at)}${late}`,
        );
        if (parked.has(a.id)) outageReordered.add(found.length - 1);
        return;
      }
      if (!highest || r > rank.get(highest.id)) highest = a;
      const open = list.slice(0, n).find((b) => rank.get(b.id) < r && ended(b) > a.at);
      if (open) {
        found.push(
          `lane ${lane}: event #${r} ${a.id} arrived at ${at(a.at)} while event #${rank.get(open.id)} ${open.id} (arrived ${at(open.at)}, ${open.outcome}) was unanswered until ${at(ended(open))}`,
        );
        if (parked.has(open.id) || parked.has(a.id)) outageReordered.add(found.length - 1);
      }
    });
  }
  return found;
}

/** For a failed run: the ordered channel's waiting lanes, and the D1 rows of the lanes that went wrong or are not done. */
function showLanes(violations) {
  const lanes = new Set(violations.map((v) => v.match(/^lane (\S+):/)?.[1]));
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const query = `select id, event_id, lane, status, attempt_count, next_attempt_at, generation, created_at from deliveries where channel_id = '${orderedChannel.ID}'
    and (status in ('pending', 'retrying', 'held') or lane in (${[...lanes].map((l) => `'${l}'`).join(", ") || "''"})) order by lane, id`;
  const out = spawnSync(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", worker.state, "--json", "--command", query], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  console.log(`  lanes of the ordered channel ${orderedChannel.ID} (D1 rows, times relative to the first post):`);
  try {
    for (const row of JSON.parse(out.stdout)[0].results) {
      const since = (ms) => (ms === null ? null : `${((ms - started) / 1000).toFixed(3)} s`);
      // A UUIDv7 starts with its unix ms: when the event was received (src/db/ids.ts).
      const received = Number.parseInt(row.event_id.replace("-", "").slice(0, 12), 16);
      const late = parked.has(row.event_id) ? ", parked" : "";
      console.log(
        `    ${JSON.stringify({ ...row, next_attempt_at: since(row.next_attempt_at), created_at: since(row.created_at) })} received ${since(received)}${late}`,
      );
    }
  } catch {
    console.log(out.stdout, out.stderr);
  }
}

/** Node 20 has no Map.groupBy. */
function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

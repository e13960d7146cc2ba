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
// The parts are in scripts/soak/.
import { countDuplicates, countOutcomes, readDeliveries } from "./soak/accounting.mjs";
import { createChannels, resumePaused } from "./soak/channels.mjs";
import { d1Faults } from "./soak/d1-faults.mjs";
import { drain, pendingCount } from "./soak/drain.mjs";
import { eventPoster } from "./soak/events.mjs";
import { showLaneRows } from "./soak/lane-rows.mjs";
import { LANES, readOptions } from "./soak/options.mjs";
import { checkOrder } from "./soak/order.mjs";
import { startFaultyReceiver } from "./soak/receiver.mjs";
import { report } from "./soak/report.mjs";
import { startSoakWorker } from "./soak/worker.mjs";

const wallStarted = performance.now();
const options = readOptions();

// --- set up: the receiver, the worker, its channels, the sweeper, the faults ---------------
const receiver = await startFaultyReceiver();
const run = await startSoakWorker(options);
const channels = await createChannels(run.admin, receiver.base);
run.startSweeper();
const faults = options.d1Faults ? d1Faults(run) : undefined;
await faults?.start();

// --- the load: half, a kill and restart (and the outage), a quarter, the resume, the rest --
const started = Date.now();
const startedPerf = performance.now();
const events = eventPoster(run, options.concurrency, started);
console.log(
  `soak: ${options.events} events × ${channels.all.length} channels (one paused, then resumed; one ordered, ${LANES} lanes), schedule ${options.schedule}, receiver failing ~42% of requests`,
);
await events.postUntil(Math.floor(options.events / 2));
const backlog = await pendingCount(run, channels.all);
console.log(`  ${events.accepted.length} accepted; killing the worker with ${backlog} deliveries not yet done, and starting it again`);
await faults?.countBeforeKill();
await run.restart();
await faults?.startOutage();
await events.postUntil(Math.floor((3 * options.events) / 4));
await faults?.printOutageSoFar(events.parked.size);
await resumePaused(run.admin, channels.paused);
await events.postUntil(options.events);
console.log(`  ${events.accepted.length} accepted in ${((Date.now() - started) / 1000).toFixed(1)} s; draining…`);

// --- drain, then account for every accepted delivery ------------------------------------
await drain(run, channels.all, events.parked, started + options.maxMinutes * 60_000);
const drainSeconds = (Date.now() - started) / 1000;
run.stopSweeper();
// Live deliveries left when the run ended (the sweeper had its chance): stuck.
const stuck = await pendingCount(run, channels.all);
await faults?.end();
const outcomes = countOutcomes(events.accepted, channels.all, await readDeliveries(run, channels.all), receiver.arrivals);
const duplicates = countDuplicates(receiver.arrivals);
const order = checkOrder(receiver.ordered, events, startedPerf);
for (const v of order.reordered.slice(0, 5)) console.log(`  STORED LATE ${v}`);
for (const v of order.violations.slice(0, 10)) console.log(`  ORDER ${v}`);
if (order.violations.length || stuck) showLaneRows(order.violations, { channel: channels.ordered, state: run.current.state, parked: events.parked, started });
await run.stop();
receiver.close();

const passed = report({
  d1Faults: options.d1Faults,
  faultTally: faults?.tally,
  events,
  receiver,
  outcomes,
  duplicates,
  order,
  stuck,
  sweeps: run.sweeps,
  channelCount: channels.all.length,
  drainSeconds,
  wallStarted,
  startedPerf,
});
process.exit(passed ? 0 : 1);

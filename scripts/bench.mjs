#!/usr/bin/env node
// `npm run bench`: the project against the floor (../shared/bench/floor: the least work this
// design can do), in the same run, against the same receiver, alternating. Prints a table of
// medians and writes bench/results.json. Local D1 and Queues are simulated: read the ratios.
// `BENCH_ROUNDS` (default 5) sets the rounds of each measure. The parts are in scripts/bench/.
import { measureArrival, measureBurst, measureFilters, measureHealthz, measureIntake } from "./bench/measures.mjs";
import { startBenchReceiver } from "./bench/receiver.mjs";
import { d1RoundTripTestsPass, report } from "./bench/report.mjs";
import { roundResults } from "./bench/results.mjs";
import { startSides } from "./bench/sides.mjs";

const receiver = await startBenchReceiver();
console.log("Starting the project and the floor (wrangler dev, fresh state)…");
const sides = await startSides(receiver.base);
const { raw, record } = roundResults();
const bench = { sides, receiver, record };

await measureIntake(bench);
const filterRatios = await measureFilters(bench);
await measureHealthz(bench);
await measureBurst(bench);
await measureArrival(bench);

await sides.stop();
receiver.close();
const countsHold = d1RoundTripTestsPass();
report({ raw, filterRatios, countsHold });

// The soak's flags, and the fixed figures of its run.
import { readArgs, refuseArgs } from "../lib/args.mjs";

/** `--d1-faults`: the share of D1 calls that fail throughout. */
export const FAULT_SHARE = 0.05;
/** `--d1-faults`: how long the whole database is down, right after the restart (s). */
export const OUTAGE_SECONDS = 30;
/** The ordered channel's lanes: Message.ID runs over 1..LANES, so each lane has several events. */
export const LANES = 20;
/** Every channel's Timeout (s): a hung request has ended, for the dispatcher, this long after it arrived. */
export const TIMEOUT_SECONDS = 1;

const USAGE = `Usage: npm run soak -- [--events N] [--concurrency N] [--schedule LIST] [--max-minutes N] [--d1-faults]
  --events N        events to post (default 2000; CI runs 100)
  --concurrency N   intake requests at once (default 10)
  --schedule LIST   the worker's RETRY_SCHEDULE: seconds before each retry (default 1,1,2,2,3,3,5,5)
  --max-minutes N   minutes after the first event when the soak stops waiting for the drain (default 15)
  --d1-faults       run on test/faults/worker.ts: ${FAULT_SHARE * 100}% of D1 calls fail, and D1 is down ${OUTAGE_SECONDS} s after the restart
  -h, --help        this usage`;

/** The command line: `--events`, `--concurrency`, `--schedule`, `--max-minutes`, `--d1-faults`; exits 0 after --help, 2 on an option refused. */
export function readOptions() {
  const values = readArgs(
    {
      events: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "10" },
      schedule: { type: "string", default: "1,1,2,2,3,3,5,5" },
      "max-minutes": { type: "string", default: "15" },
      "d1-faults": { type: "boolean", default: false },
    },
    { usage: USAGE, command: "npm run soak" },
  );
  for (const [name, whole] of [
    ["events", true],
    ["concurrency", true],
    ["max-minutes", false],
  ]) {
    const n = Number(values[name]);
    if (!(n > 0 && (!whole || Number.isInteger(n)))) refuseArgs(`--${name} takes ${whole ? "a whole number" : "a number"} above 0, not "${values[name]}".`);
  }
  return {
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    /** The RETRY_SCHEDULE, as given (it is printed). */
    schedule: values.schedule,
    maxMinutes: Number(values["max-minutes"]),
    d1Faults: values["d1-faults"],
  };
}

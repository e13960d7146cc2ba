// The soak's flags, and the fixed figures of its run.
import { parseArgs } from "node:util";

/** `--d1-faults`: the share of D1 calls that fail throughout. */
export const FAULT_SHARE = 0.05;
/** `--d1-faults`: how long the whole database is down, right after the restart (s). */
export const OUTAGE_SECONDS = 30;
/** The ordered channel's lanes: Message.ID runs over 1..LANES, so each lane has several events. */
export const LANES = 20;
/** Every channel's Timeout (s): a hung request has ended, for the dispatcher, this long after it arrived. */
export const TIMEOUT_SECONDS = 1;

/** The command line: `--events`, `--concurrency`, `--schedule`, `--max-minutes`, `--d1-faults`. */
export function readOptions() {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "10" },
      schedule: { type: "string", default: "1,1,2,2,3,3,5,5" },
      "max-minutes": { type: "string", default: "15" },
      "d1-faults": { type: "boolean", default: false },
    },
  });
  return {
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    /** The RETRY_SCHEDULE, as given (it is printed). */
    schedule: values.schedule,
    maxMinutes: Number(values["max-minutes"]),
    d1Faults: values["d1-faults"],
  };
}

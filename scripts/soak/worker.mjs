// The dispatcher under test: started (on test/faults/worker.ts with `--d1-faults`), its
// admin API, the sweeper driven, and the kill and restart mid-run. Every call goes to the
// worker running now: a restart replaces it.
import { setTimeout as sleep } from "node:timers/promises";
import { adminClient, startDispatcher } from "../lib/dev-server.mjs";

/** Production runs the sweeper every minute; the soak runs it this often (ms). */
const SWEEP_EVERY_MS = 3000;

/** @param {{ schedule: string, d1Faults: boolean }} options */
export async function startSoakWorker({ schedule, d1Faults }) {
  let worker = await startDispatcher(
    { RETRY_SCHEDULE: schedule, LOST_AFTER_SECONDS: "10,10" },
    { log: Boolean(process.env.SOAK_LOG), main: d1Faults ? "test/faults/worker.ts" : undefined },
  );
  let sweeper;
  let sweeps = 0;
  return {
    /** The worker running now: { url, vars, state, … } (scripts/lib/dev-server.mjs). */
    get current() {
      return worker;
    },
    /** Sweeper runs that answered. */
    get sweeps() {
      return sweeps;
    },
    /**
     * An admin API call, tried again as an operator would: under D1 faults some fail, and
     * during the outage all do.
     */
    async admin(method, route, body) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await adminClient(worker)(method, route, body);
        } catch (err) {
          if (attempt >= 90) throw err;
          await sleep(1000);
        }
      }
    },
    startSweeper() {
      sweeper = setInterval(() => {
        fetch(`${worker.url}/__scheduled`).then(
          () => sweeps++,
          () => {},
        );
      }, SWEEP_EVERY_MS);
    },
    stopSweeper() {
      clearInterval(sweeper);
    },
    /** Kills the worker, its in-memory queue with it, and starts it again on the same D1 state. */
    async restart() {
      worker = await worker.restart();
    },
    stop: () => worker.stop(),
  };
}

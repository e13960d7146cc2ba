// `--d1-faults`: the D1 faults of the running worker (test/faults/worker.ts's /__faults),
// and the count of the D1 calls they failed, across the restart.
import { FAULT_SHARE, OUTAGE_SECONDS } from "./options.mjs";

/** @param {Awaited<ReturnType<import("./worker.mjs").startSoakWorker>>} run */
export function d1Faults(run) {
  /** D1 calls failed on purpose: before running, after committing, in the outage. */
  const tally = { before: 0, after: 0, outage: 0 };
  /** Sets the faults (or, without `change`, only reads them); answers what failed so far. */
  async function faults(change) {
    const res = await fetch(`${run.current.url}/__faults`, {
      method: change ? "POST" : "GET",
      headers: { Authorization: `Bearer ${run.current.vars.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: change ? JSON.stringify(change) : undefined,
    });
    return res.json();
  }
  const count = ({ failed }) => {
    for (const k of Object.keys(tally)) tally[k] += failed[k];
  };

  return {
    tally,
    start: () => faults({ share: FAULT_SHARE }),
    /** Before the kill: what this isolate failed, counted (it is lost with it). */
    countBeforeKill: async () => count(await faults()),
    /** The new isolate starts with no faults: the share again, and the outage now, while events arrive. */
    async startOutage() {
      await faults({ share: FAULT_SHARE, outageSeconds: OUTAGE_SECONDS });
      console.log(`  D1 down for ${OUTAGE_SECONDS} s from now, and ${FAULT_SHARE * 100}% of D1 calls failing throughout`);
    },
    async printOutageSoFar(parkedCount) {
      const { failed, outageUntil } = await faults();
      const left = Math.max(0, (outageUntil - Date.now()) / 1000).toFixed(0);
      console.log(
        `  ${parkedCount} events accepted onto the storing queue so far (202, Deliveries null); ${failed.outage} D1 calls refused by the outage, ${left} s of it left`,
      );
    },
    /** At the end: no faults any more; what failed, counted and printed. */
    async end() {
      count(await faults({ share: 0 }));
      console.log(`  D1 calls failed on purpose: ${tally.before} before running, ${tally.after} after committing, ${tally.outage} in the outage`);
    },
  };
}

// The soak's verdict: the figures as a table, then as one `SOAK {json}` line, then
// passed or failed (lost, stuck and order violations must all be 0).
import { LANES } from "./options.mjs";

/**
 * Prints the report; returns whether the soak passed.
 * @param {{ d1Faults: boolean, faultTally?: object, events: { accepted: string[], parked: Set<string>, refused503: number },
 *   receiver: { tally: Record<string, number>, ordered: object[], lastSuccess: Map<string, number> },
 *   outcomes: { succeeded: number, failed: number, lost: number, attempts: number }, duplicates: { duplicates: number, orderedDuplicates: number },
 *   order: { violations: string[], reordered: string[] }, stuck: number, sweeps: number, channelCount: number,
 *   drainSeconds: number, wallStarted: number, startedPerf: number }} run
 */
export function report(run) {
  const { events, receiver, outcomes, duplicates, order } = run;
  const { tally } = receiver;
  const expected = events.accepted.length * run.channelCount;
  const result = {
    d1Faults: run.d1Faults,
    events: events.accepted.length,
    parked: events.parked.size,
    refused503: events.refused503,
    stuck: run.stuck,
    d1CallsFailed: run.d1Faults ? run.faultTally : undefined,
    deliveries: expected,
    succeeded: outcomes.succeeded,
    failed: outcomes.failed,
    lost: outcomes.lost,
    duplicates: duplicates.duplicates,
    orderViolations: order.violations.length,
    reorderedByOutage: order.reordered.length,
    orderedArrivals: receiver.ordered.length,
    orderedDuplicates: duplicates.orderedDuplicates,
    attempts: outcomes.attempts,
    sweeps: run.sweeps,
    drainSeconds: Number(run.drainSeconds.toFixed(1)),
    wallSeconds: Number(((performance.now() - run.wallStarted) / 1000).toFixed(1)),
    drainedAt: Object.fromEntries([...receiver.lastSuccess].map(([p, at]) => [p, Number(((at - run.startedPerf) / 1000).toFixed(1))])),
    receiver: tally,
  };
  console.log(`
  accepted deliveries  ${expected}
  succeeded (arrived)  ${result.succeeded}
  failed (attempted)   ${result.failed}
  lost                 ${result.lost}
  stuck                ${result.stuck}   (live deliveries left at the end)
  parked, stored later ${result.parked}   (events accepted with Deliveries null; ${result.refused503} answers were 503)
  duplicates           ${result.duplicates}   (extra 200s for one webhook-id and channel; ${result.orderedDuplicates} on the ordered channel)
  order violations     ${result.orderViolations}   (ordered channel, ${LANES} lanes, ${result.orderedArrivals} arrivals: an event arriving before the one received before it in its lane had its final answer)
  reordered by outage  ${result.reorderedByOutage}   (an event parked during the D1 outage, delivered once stored: after later events of its lane)
  attempts             ${result.attempts}   (receiver saw ${tally.requests}: ${tally.ok} ok, ${tally.error500} 500, ${tally.hang} hung, ${tally.tooMany} 429, ${tally.reset} reset)
  time to drain        ${run.drainSeconds.toFixed(1)} s   (wall time ${result.wallSeconds} s; last success per path, s: ${Object.entries(result.drainedAt)
    .map(([p, s]) => `${p} ${s}`)
    .join(", ")})
`);
  console.log(`SOAK ${JSON.stringify(result)}`);
  const passed = result.lost === 0 && result.stuck === 0 && result.orderViolations === 0;
  console.log(passed ? "soak: 1 passed, 0 failed" : "soak: 0 passed, 1 failed");
  return passed;
}

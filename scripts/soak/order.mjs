// The ordered channel's check: per lane, an event must never arrive before the one
// received before it in that lane got its final answer.
import { TIMEOUT_SECONDS } from "./options.mjs";

/**
 * The ordered channel's arrivals that broke their lane's order, described. Per lane, events
 * rank by their ids (the order of receipt). An arrival breaks it if an event ranked before
 * it had arrived later (arrivals must not go back in rank: a repeated arrival of an event,
 * at least once, is a duplicate only while no later event has arrived), or if an arrival
 * of an event ranked before it had not been answered yet (for the dispatcher a hung
 * request ends at its timeout).
 *
 * `reordered`: those that involve an event parked during the D1 outage. Its deliveries
 * exist only once it is stored, after events of its lane received later may have been
 * delivered (README, Flow control: a known limit): reported apart, not failed.
 * `violations`: the others.
 * @param {{ laneOf: Map<string, number>, parked: Set<string> }} events @param {number} startedPerf
 */
export function checkOrder(arrivals, { laneOf, parked }, startedPerf) {
  const violations = [];
  const reordered = [];
  const rank = new Map();
  for (const ids of groupBy([...laneOf.keys()].sort(), (id) => laneOf.get(id)).values()) {
    for (const [n, id] of ids.entries()) rank.set(id, n);
  }
  const ended = (a) => (a.outcome === "hang" ? a.at + TIMEOUT_SECONDS * 1000 : (a.answeredAt ?? Number.POSITIVE_INFINITY));
  const at = (ms) => `${((ms - startedPerf) / 1000).toFixed(3)} s`;
  for (const [lane, list] of groupBy(arrivals, (a) => a.lane)) {
    list.sort((a, b) => a.at - b.at);
    let highest;
    list.forEach((a, n) => {
      const r = rank.get(a.id);
      if (r === undefined) {
        violations.push(`lane ${lane}: ${a.id} arrived at ${at(a.at)} but was never accepted`);
        return;
      }
      if (highest && r < rank.get(highest.id)) {
        const late = parked.has(a.id) ? " (it was parked on the storing queue: stored late)" : "";
        (parked.has(a.id) ? reordered : violations).push(
          `lane ${lane}: event #${r} ${a.id} arrived at ${at(a.at)} (${a.outcome}) after event #${rank.get(highest.id)} ${highest.id} had arrived at ${at(highest.at)}${late}`,
        );
        return;
      }
      if (!highest || r > rank.get(highest.id)) highest = a;
      const open = list.slice(0, n).find((b) => rank.get(b.id) < r && ended(b) > a.at);
      if (open) {
        (parked.has(open.id) || parked.has(a.id) ? reordered : violations).push(
          `lane ${lane}: event #${r} ${a.id} arrived at ${at(a.at)} while event #${rank.get(open.id)} ${open.id} (arrived ${at(open.at)}, ${open.outcome}) was unanswered until ${at(ended(open))}`,
        );
      }
    });
  }
  return { violations, reordered };
}

/** Node 20 has no Map.groupBy. */
function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

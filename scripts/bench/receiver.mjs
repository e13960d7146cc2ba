// The bench's receiver: answers 200 at once, counts each side's deliveries, and notes when
// each marked body first arrives.
import { setTimeout as sleep } from "node:timers/promises";
import { startReceiver } from "../lib/receiver.mjs";

export async function startBenchReceiver() {
  /** Per side: marker → when it first arrived (performance.now()). */
  const arrivals = { project: new Map(), floor: new Map() };
  const counts = { project: 0, floor: 0 };
  const { base, close } = await startReceiver(0, (req, res, body) => {
    const side = req.url.startsWith("/floor") ? "floor" : "project";
    counts[side]++;
    const marker = /bench-[\w-]+/.exec(body.toString("latin1"))?.[0];
    if (marker && !arrivals[side].has(marker)) arrivals[side].set(marker, performance.now());
    res.writeHead(200).end();
  });
  return {
    base,
    arrivals,
    counts,
    close,
    /** Waits until `side` has had `expected` deliveries in all; whether it did in time. */
    async drained(side, expected, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (counts[side] < expected && Date.now() < deadline) await sleep(50);
      return counts[side] >= expected;
    },
  };
}

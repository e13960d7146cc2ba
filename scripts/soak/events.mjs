// The portal's side: UserRegistered events posted by `concurrency` senders at once, each
// sent again on a 503 as the portal would; what was accepted, in which lane, what parked.
import { setTimeout as sleep } from "node:timers/promises";
import { LANES } from "./options.mjs";

/**
 * @param {Awaited<ReturnType<import("./worker.mjs").startSoakWorker>>} run
 * @param {number} concurrency @param {number} started the run's start (unix ms), in every email
 */
export function eventPoster(run, concurrency, started) {
  const events = {
    /** Accepted events' ids, in the order of their 202s. */
    accepted: [],
    /** Each accepted event's lane on the ordered channel (its Message.ID). */
    laneOf: new Map(),
    /** Events answered 202 with Deliveries null: parked on the storing queue, stored later. */
    parked: new Set(),
    /** Answers 503 (neither D1 nor the queue took the event), each sent again. */
    refused503: 0,
    postUntil,
  };
  let next = 0;

  async function sendOne(i) {
    const body = eventBody(i, started);
    let res;
    for (;;) {
      const worker = run.current;
      res = await fetch(`${worker.url}/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${worker.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
        body,
      });
      // Neither D1 nor the queue took it: send it again later, as the portal would.
      if (res.status !== 503) break;
      events.refused503++;
      await sleep(1000);
    }
    if (res.status !== 202) throw new Error(`event ${i}: ${res.status} ${await res.text()}`);
    const answer = await res.json();
    events.accepted.push(answer.ID);
    events.laneOf.set(answer.ID, laneOfEvent(i));
    if (answer.Deliveries === null) events.parked.add(answer.ID);
  }

  /** Posts the events numbered from where the last call stopped up to `until` (excluded). */
  async function postUntil(until) {
    const sender = async () => {
      while (next < until) await sendOne(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, sender));
  }

  return events;
}

/** The ordered channel's lane of event `i`: LANES values, each taken by every LANES-th event. */
const laneOfEvent = (i) => (i % LANES) + 1;

function eventBody(i, started) {
  return JSON.stringify({
    Event: "UserRegistered",
    Message: {
      ID: laneOfEvent(i),
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
}

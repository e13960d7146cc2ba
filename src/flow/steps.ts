import type { Env } from "../core/env";
import { errorText, log } from "../core/log";
import { hasEnded } from "../db/delivery-state";
import type { BatchData, DeliveryMessage, Handled, Park, Sendable, Triaged } from "../db/records";

/*
 * The consumer's flow-control steps, for channels with `Ordering` or `RateLimit` (channels
 * with neither pass through untouched and cost nothing): before sending, a delivery that
 * is not its lane's head waits (parks), and a rate-limited one gets its start time from
 * the channel's sequencer; after the batch is recorded, the sequencer learns which lanes
 * moved on and names the deliveries to wake. See src/flow/lanes.ts and sequencer.ts.
 */

/**
 * How long a consumer waits in its invocation for a start time (wall time, not CPU): a
 * backlog handed over batch by batch is paced within each batch, in order, with no
 * message of its own. A later start goes back to the queue with the delay to it (at most
 * one more message per delivery).
 */
export const WAIT_IN_BATCH_MS = 10_000;
/**
 * A message that comes back this much after its start (a busy queue) asks for a new one:
 * its own slot has passed, and starting it now could put more than the limit in a second.
 */
const LATE_MS = 500;
/** When the sequencer cannot be asked, its deliveries ask again after this; they never start unpaced. */
const SEQUENCER_UNREACHABLE_SECONDS = 5;

/**
 * A delivery of an ordered channel that is not its lane's head (the lowest live id, as
 * this batch read D1) is not sent: it parks, its message is acked, and it is woken when
 * the deliveries before it have ended. The head is sent, alone in its lane.
 */
export function parkBehindLaneHeads(triaged: Triaged[]): void {
  triaged.forEach((t, i) => {
    if ("plan" in t) return;
    const { lane, laneHead, id } = t.delivery;
    if (lane === null || laneHead === id) return;
    const { channelId, generation } = t.delivery;
    triaged[i] = { plan: { ack: true }, park: { channelId, id, generation, lane, behind: laneHead ?? id } };
  });
}

/**
 * Start times for the sendable deliveries of rate-limited channels: one call to each
 * channel's sequencer per batch, its deliveries in the order received (by id). A message
 * that already has a start time keeps it, unless it came back late. A start within `WAIT_IN_BATCH_MS` is waited for
 * here; a later one becomes a new message with the delay to it, and the delivery's due
 * time in D1 is that start, so the sweeper knows it waits and is not lost.
 */
export async function paceRateLimited(env: Env, triaged: Triaged[], messages: readonly (DeliveryMessage | undefined)[]): Promise<void> {
  const asking = new Map<string, number[]>();
  triaged.forEach((t, i) => {
    if ("plan" in t || t.channel.rateLimit === null) return;
    // A start is the message's it was granted for: D1 has it as the due time until an
    // attempt; a retry of that message (its body unchanged) asks again.
    const told = messages[i]?.startAt;
    if (told !== undefined && told === t.delivery.nextAttemptAt && Date.now() - told <= LATE_MS) t.startAt = told;
    else asking.set(t.channel.id, [...(asking.get(t.channel.id) ?? []), i]);
  });
  await Promise.all(
    [...asking].map(async ([channelId, positions]) => {
      positions.sort((a, b) => ((triaged[a] as Sendable).delivery.id < (triaged[b] as Sendable).delivery.id ? -1 : 1));
      const limit = (triaged[positions[0]!] as Sendable).channel.rateLimit!;
      let starts: number[];
      try {
        starts = await sequencer(env, channelId).pace(
          positions.map((i) => (triaged[i] as Sendable).delivery.id),
          limit,
        );
      } catch (err) {
        // Fails closed: they come back to ask again, rather than start unpaced.
        log.error("sequencer unreachable; the channel's deliveries wait", { channelId, error: errorText(err) });
        for (const i of positions) triaged[i] = { plan: { ack: false, delaySeconds: SEQUENCER_UNREACHABLE_SECONDS } };
        return;
      }
      positions.forEach((i, n) => {
        (triaged[i] as Sendable).startAt = starts[n]!;
      });
    }),
  );
  const now = Date.now();
  triaged.forEach((t, i) => {
    if (!("plan" in t) && t.startAt !== undefined && t.startAt - now > WAIT_IN_BATCH_MS) triaged[i] = waitFor(t, t.startAt);
  });
}

/**
 * The starts of rate-limited requests in this isolate, per channel (ms since the epoch):
 * those of the last second, at most `limit` of them, since no older one can hold a start
 * back. Shared by every invocation the isolate runs, so batches consumed side by side
 * keep to the limit together.
 */
const recentStarts = new Map<string, number[]>();

/**
 * Resolves when a request of `channelId` may start: at its granted `startAt` (ms since
 * the epoch), and never less than a second after the start `limit` places before it in
 * this isolate. A grant is a plan; a timer the isolate ran late would otherwise bunch its
 * start with the next ones, on time, into more than `limit` in a second. Records the
 * start, and resolves with it (ms since the epoch).
 */
export async function startWithinLimit(channelId: string, limit: number, startAt: number): Promise<number> {
  const startsOf = () => recentStarts.get(channelId) ?? recentStarts.set(channelId, []).get(channelId)!;
  for (;;) {
    // Checked again after each wait: another invocation may have started one meanwhile.
    const started = startsOf();
    const floor = started.length >= limit ? started[started.length - limit]! + 1000 : 0;
    const wait = Math.max(startAt, floor) - Date.now();
    if (wait <= 0) break;
    await scheduler.wait(wait);
  }
  const now = Date.now();
  const started = startsOf();
  started.push(now);
  const kept = started.findIndex((at) => at > now - 1000);
  started.splice(0, Math.max(kept, started.length - limit));
  // Channels idle for a second are forgotten: the map holds only those sending now.
  for (const [id, starts] of recentStarts) if (starts.at(-1)! <= now - 1000) recentStarts.delete(id);
  return now;
}

/** A delivery that waits for its start: a new message then, and its due time in D1 moved to it. */
function waitFor({ delivery }: Sendable, startAt: number): Handled {
  const { channelId, id, generation, status, lastStatusCode, lastError } = delivery;
  return {
    plan: { ack: true },
    change: { channelId, id, generation, status, nextAttemptAt: startAt, lastStatusCode, lastError },
    resend: { deliveryId: id, channelId, generation, startAt },
  };
}

/**
 * After the batch is recorded: tells each ordered channel's sequencer which deliveries
 * parked and which ended (only changes D1 applied), and returns the messages of the
 * deliveries it wakes. Never throws: a wake-up that is lost is made by the sweeper, since
 * D1 marks a lane's next delivery due when the one before it ends.
 */
export async function settleLanes(env: Env, handled: readonly Handled[], data: BatchData, applied: ReadonlySet<string>): Promise<DeliveryMessage[]> {
  const byChannel = new Map<string, { parked: Park[]; ended: { lane: string; id: string }[] }>();
  const of = (channelId: string) => byChannel.get(channelId) ?? byChannel.set(channelId, { parked: [], ended: [] }).get(channelId)!;
  for (const h of handled) {
    if (h.park) of(h.park.channelId).parked.push(h.park);
    const change = h.change;
    if (!change || !hasEnded(change.status) || !applied.has(change.id)) continue;
    const lane = data.deliveries.get(change.id)?.lane;
    if (lane != null) of(change.channelId).ended.push({ lane, id: change.id });
  }
  const woken = await Promise.all(
    [...byChannel].map(async ([channelId, { parked, ended }]) => {
      try {
        return await sequencer(env, channelId).settle(channelId, parked, ended);
      } catch (err) {
        log.error("sequencer unreachable; the sweeper wakes the lanes' next deliveries", { channelId, error: errorText(err) });
        return [];
      }
    }),
  );
  return woken.flat();
}

const sequencer = (env: Env, channelId: string) => env.SEQUENCER.get(env.SEQUENCER.idFromName(channelId));

import { DurableObject } from "cloudflare:workers";
import { errorText, log } from "../log";

/**
 * A channel's rate limit across every consumer invocation at once (Queues runs up to 250
 * of them in parallel, so a counter in one isolate would not do): one Durable Object per
 * rate-limited channel remembers when its last requests started and hands out the rest of
 * the current one-second window. Its memory is the whole state: the window is one second
 * long, so an object that is evicted and starts empty loses nothing that matters.
 *
 * Channels without a limit never reach it, and it is never a D1 round trip.
 */
/**
 * A grant is counted from when it is given, but its request starts a little later (the
 * consumer sends at most 6 at once): the window is a quarter second longer than a
 * second, so no one-second window at the target sees more than the limit.
 */
const WINDOW_MS = 1250;

export class RateLimiter extends DurableObject {
  /** Start times of the requests granted in the last window, oldest first. */
  private started: number[] = [];

  /**
   * Grants up to `count` requests now under `limit` per second; the rest are told when the
   * window next has room, and ask again then (in the order they were refused, which keeps
   * a drained backlog in order).
   */
  take(count: number, limit: number): { granted: number; waitMs: number } {
    const now = Date.now();
    while (this.started.length && this.started[0]! <= now - WINDOW_MS) this.started.shift();
    const granted = Math.max(0, Math.min(count, limit - this.started.length));
    for (let i = 0; i < granted; i++) this.started.push(now);
    if (granted === count) return { granted, waitMs: 0 };
    // Room comes back when the limit-th most recent start leaves the window.
    return { granted, waitMs: Math.max(1, this.started[this.started.length - limit]! + WINDOW_MS - now) };
  }
}

/** How long a message waits when its channel's limiter cannot be asked (it fails closed). */
const UNREACHABLE_WAIT_MS = 5000;

/**
 * For each rate-limited channel, how many of the `count` requests this batch wants to
 * start now may start; the others wait `waitMs`. One call per limited channel, in parallel.
 */
export async function admit(
  limiter: DurableObjectNamespace<RateLimiter>,
  wanted: Map<string, { count: number; limit: number }>,
): Promise<Map<string, { granted: number; waitMs: number }>> {
  const answers = await Promise.all(
    [...wanted].map(async ([channelId, { count, limit }]): Promise<[string, { granted: number; waitMs: number }]> => {
      try {
        const { granted, waitMs } = await limiter.get(limiter.idFromName(channelId)).take(count, limit);
        return [channelId, { granted, waitMs }];
      } catch (err) {
        log.error("rate limiter unreachable; the channel's deliveries wait", { channelId, error: errorText(err) });
        return [channelId, { granted: 0, waitMs: UNREACHABLE_WAIT_MS }];
      }
    }),
  );
  return new Map(answers);
}

import type { BatchDelivery, Handled, Sendable } from "../db/records";
import { startWithinLimit } from "./steps";

/*
 * A rate-limited delivery can wait in its batch for seconds before it starts (up to
 * WAIT_IN_BATCH_MS, src/flow/steps.ts), long after the batch read D1. An admin may pause,
 * disable, delete or unsubscribe its channel meanwhile, or redeliver it (a new run): it
 * must then not start. So one that starts more than RECHECK_AFTER_MS after the read asks
 * D1 again first. The answer is shared by the channel's deliveries for a second, so a
 * batch waiting 10 s reads at most about ten times per limited channel; channels without
 * a RateLimit, and starts within the second, never read again.
 */

/** How long after the batch's read a start may come without asking D1 again (ms). */
export const RECHECK_AFTER_MS = 1000;

// The run each of a channel's deliveries is in now, and whether the channel is paused
// (a deleted channel has no row: its deliveries were cancelled with it).
const CURRENT_STATE = `
  select d.id, d.status, d.generation, coalesce(c.paused, 0) as paused
  from deliveries as d left join channels as c on c.id = d.channel_id
  where d.channel_id = ?1 and d.id in (select value from json_each(?2))`;

type RunNow = { status: string; generation: number; paused: boolean };

/** A paused channel's delivery: held, not sent and not an attempt, until the channel resumes. */
export function held(delivery: BatchDelivery): Handled {
  const { channelId, id, generation, lastStatusCode, lastError } = delivery;
  return { plan: { ack: true }, change: { channelId, id, generation, status: "held", nextAttemptAt: null, lastStatusCode, lastError } };
}

/**
 * The checks of one batch. `readAt`: when the batch read D1 (ms since the epoch);
 * `waiting`: the batch's rate-limited deliveries, those a check reads for.
 */
export class StartChecks {
  private readonly asked = new Map<string, { at: number; answer: Promise<Map<string, RunNow>> }>();

  constructor(
    private readonly db: D1Database,
    private readonly readAt: number,
    private readonly waiting: readonly Sendable[],
  ) {}

  /**
   * Waits for `t`'s start, if it has one (`startWithinLimit`). Then null when it may
   * start; else what becomes of it instead: held if its channel is paused, nothing (acked,
   * D1 left as the admin's action set it) if its run has ended or been replaced. A read
   * that fails lets it start, as it would have without the check.
   */
  async whenDue(t: Sendable): Promise<Handled | null> {
    if (t.startAt === undefined) return null;
    await startWithinLimit(t.channel.id, t.channel.rateLimit ?? Number.POSITIVE_INFINITY, t.startAt);
    const now = Date.now();
    if (now - this.readAt <= RECHECK_AFTER_MS) return null;
    let asked = this.asked.get(t.channel.id);
    if (!asked || now - asked.at > RECHECK_AFTER_MS) {
      asked = { at: now, answer: this.read(t.channel.id) };
      this.asked.set(t.channel.id, asked);
    }
    let run: RunNow | undefined;
    try {
      run = (await asked.answer).get(t.delivery.id);
    } catch {
      return null;
    }
    if (!run || run.generation !== t.delivery.generation || (run.status !== "pending" && run.status !== "retrying")) return { plan: { ack: true } };
    return run.paused ? held(t.delivery) : null;
  }

  private async read(channelId: string): Promise<Map<string, RunNow>> {
    const ids = this.waiting.filter((w) => w.channel.id === channelId).map((w) => w.delivery.id);
    const { results } = await this.db
      .prepare(CURRENT_STATE)
      .bind(channelId, JSON.stringify(ids))
      .all<{ id: string; status: string; generation: number; paused: number }>();
    return new Map(results.map((r) => [r.id, { status: r.status, generation: r.generation, paused: r.paused === 1 }]));
  }
}

import { DurableObject } from "cloudflare:workers";
import type { Env, SequencerApi } from "../core/env";
import type { DeliveryMessage, Park } from "../db/records";

/**
 * One per channel that has `RateLimit` or `Ordering`: the one place where its deliveries'
 * start times are handed out, and where a lane's next delivery is woken when the one
 * before it ends. Queues runs up to 250 consumer invocations at once, so neither can be
 * decided in an isolate.
 *
 * What it decides on is in its storage (SQLite), not in memory: a Durable Object can run
 * twice for a moment (after a network partition or an update, in Cloudflare's known
 * issues), and only the storage has the single-writer guarantee. D1 stays the truth for
 * order: a delivery starts only if D1 says it is its lane's head (the rule:
 * src/flow/lanes.ts; in SQL: `sqlLaneHead`, src/db/lanes.ts), so a lost or second
 * sequencer can cost time (a wake-up the sweeper then makes), never order.
 *
 * Channels with neither setting never reach it.
 */
export class Sequencer extends DurableObject<Env> implements SequencerApi {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      create table if not exists pace (id integer primary key check (id = 1), next_start real not null);
      create table if not exists waiting (lane text not null, id text not null, generation integer not null, since integer not null, primary key (lane, id));
      create table if not exists ended (lane text primary key, id text not null, at integer not null);
      create index if not exists waiting_since on waiting (since);
      create index if not exists ended_at on ended (at);`);
  }

  /** Asks for start times that arrived within the current gathering window. */
  private asks: { ids: string[]; limit: number; resolve: (starts: number[]) => void }[] = [];

  /**
   * Start times (unix ms) for the deliveries `ids` under `limit` requests per second:
   * evenly spaced, a little wider than 1000/limit ms (`PACE_MARGIN`), from the later of now
   * and the end of the last grant. A backlog is thus paced, not polled: each waiting
   * delivery is told once when it starts. Asks that arrive within `GATHER_MS` of each other
   * (consumer invocations running side by side) are answered together, their deliveries
   * in the order received (by id), so a drained backlog keeps its order.
   */
  pace(ids: string[], limit: number): Promise<number[]> {
    return new Promise((resolve) => {
      if (!this.asks.length) setTimeout(() => this.grant(), GATHER_MS);
      this.asks.push({ ids, limit, resolve });
    });
  }

  private grant() {
    const asks = this.asks;
    this.asks = [];
    // The newest limit counts (a PATCH may have changed it between two asks).
    const spacing = (1000 / asks.at(-1)!.limit) * PACE_MARGIN;
    const stored = this.sql.exec<{ next_start: number }>("select next_start from pace where id = 1").toArray()[0]?.next_start ?? 0;
    let next = Math.max(Date.now(), stored);
    const starts = new Map<string, number>();
    for (const id of asks.flatMap((a) => a.ids).sort()) {
      starts.set(id, Math.round(next));
      next += spacing;
    }
    this.sql.exec("insert into pace (id, next_start) values (1, ?) on conflict do update set next_start = excluded.next_start", next);
    for (const { ids, resolve } of asks) resolve(ids.map((id) => starts.get(id)!));
  }

  /**
   * What a consumer batch learned of channel `channelId`'s lanes: `parked` deliveries wait
   * behind `behind` (their lane's head as the batch read it), and `ended` ones are over.
   * Returns the messages that send the lanes' next deliveries now: for each lane whose
   * delivery ended, or whose head had ended already when a delivery parked behind it (the
   * head's batch and this one crossed), its lowest waiting delivery. One at a time: a woken
   * delivery that is not the head after all parks again.
   */
  settle(channelId: string, parked: Park[], ended: { lane: string; id: string }[]): DeliveryMessage[] {
    const now = Date.now();
    const moved = new Set(ended.map((e) => e.lane));
    for (const { lane, id } of ended) {
      this.sql.exec("insert into ended (lane, id, at) values (?, ?, ?) on conflict do update set id = max(id, excluded.id), at = excluded.at", lane, id, now);
      // It may have waited here before it was sent another way (a resume, an admin's
      // change, the sweeper): it must not be the one woken next.
      this.sql.exec("delete from waiting where lane = ? and id = ?", lane, id);
    }
    for (const p of parked) {
      this.sql.exec(
        "insert into waiting (lane, id, generation, since) values (?, ?, ?, ?) on conflict do update set generation = excluded.generation",
        p.lane,
        p.id,
        p.generation,
        now,
      );
      const last = this.sql.exec<{ id: string }>("select id from ended where lane = ?", p.lane).toArray()[0]?.id;
      if (last !== undefined && last >= p.behind) moved.add(p.lane);
    }
    const woken: DeliveryMessage[] = [];
    for (const lane of moved) {
      const next = this.sql
        .exec<{ id: string; generation: number }>("select id, generation from waiting where lane = ? order by id limit 1", lane)
        .toArray()[0];
      if (!next) continue;
      this.sql.exec("delete from waiting where lane = ? and id = ?", lane, next.id);
      woken.push({ deliveryId: next.id, channelId, generation: next.generation });
    }
    // Crossings happen within seconds; a wake-up missed after a week is the sweeper's (D1
    // marks a lane's next delivery due when the one before ends).
    this.sql.exec("delete from ended where at < ?", now - ENDED_KEPT_MS);
    this.sql.exec("delete from waiting where since < ?", now - WAITING_KEPT_MS);
    return woken;
  }
}

/** How long the sequencer gathers asks for start times before it answers them together (ms). */
const GATHER_MS = 50;
/** Starts are spaced 5% wider than the limit allows, so a few ms of jitter at the target cannot fit N+1 starts in a second. */
const PACE_MARGIN = 1.05;
const ENDED_KEPT_MS = 10 * 60 * 1000;
const WAITING_KEPT_MS = 7 * 24 * 60 * 60 * 1000;

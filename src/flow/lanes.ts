import { eq, sql } from "drizzle-orm";
import { NotFound } from "../core/errors";
import type { Db } from "../db/client";
import { LIVE_SQL } from "../db/delivery-state";
import type { Ordering } from "../db/lanes";
import { channels } from "../db/schema";

/*
 * Ordered delivery. A channel with `Ordering` puts each delivery in a lane: the value of
 * `Ordering.Key` in the event's payload (text), or "" for the whole channel and for a
 * payload without that value. A lane's head is its live delivery with the lowest id; ids
 * are in the order the events were received (src/db/ids.ts), so "lowest id first" is
 * "in the order received". Only the head may start, and it stays the head until it ends
 * (succeeded, failed or cancelled): that is the whole rule, and D1 holds it, so it
 * survives restarts, the sweeper and a lost sequencer (src/flow/sequencer.ts only wakes
 * the next one up).
 */

/** The lanes of a channel that have deliveries waiting behind their head, as the API shows them. */
export interface LaneView {
  Key: string | null;
  Head: {
    ID: string;
    EventID: string;
    EventType: string;
    Status: string;
    AttemptCount: number;
    NextAttemptAt: string | null;
    LastError: string | null;
  };
  /** Deliveries behind the head. */
  Waiting: number;
  /** When the head was created: the lane has waited on it since then at most. */
  Since: string;
}

type LaneRow = {
  lane: string;
  waiting: number;
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
};

/**
 * The channel's lanes with deliveries waiting behind the head, the longest-waiting head
 * first, at most `limit`. Reads the live deliveries of the channel's lanes once, through
 * the `deliveries_lane` index. A whole-channel lane (`{"Key": null}`) shows `Key: null`.
 */
export async function waitingLanes(db: Db, channelId: string, keyed: boolean, limit = 100): Promise<LaneView[]> {
  const rows = await db.all<LaneRow>(sql`
    select l.lane, l.waiting, d.id, d.event_id as eventId, d.event_type as eventType, d.status,
           d.attempt_count as attemptCount, d.next_attempt_at as nextAttemptAt, d.last_error as lastError, d.created_at as createdAt
    from (select lane, min(id) as head, count(*) - 1 as waiting
          from deliveries
          where channel_id = ${channelId} and lane is not null and status in ${sql.raw(LIVE_SQL)}
          group by lane having count(*) > 1) as l
    join deliveries as d on d.channel_id = ${channelId} and d.id = l.head
    order by d.id
    limit ${limit}`);
  return rows.map((r) => ({
    Key: keyed ? r.lane : null,
    Head: {
      ID: r.id,
      EventID: r.eventId,
      EventType: r.eventType,
      Status: r.status,
      AttemptCount: r.attemptCount,
      // A held head waits for the channel's resume, not for a time.
      NextAttemptAt: r.nextAttemptAt === null || r.status === "held" ? null : new Date(r.nextAttemptAt).toISOString(),
      LastError: r.lastError,
    },
    Waiting: r.waiting,
    Since: new Date(r.createdAt).toISOString(),
  }));
}

/** A channel's Ordering (null when it has none); NotFound if the channel does not exist. */
export async function channelOrdering(db: Db, channelId: string): Promise<Ordering | null> {
  const [row] = await db.select({ ordering: channels.ordering }).from(channels).where(eq(channels.id, channelId));
  if (!row) throw new NotFound("Webhook");
  return row.ordering === null ? null : (JSON.parse(row.ordering) as Ordering);
}

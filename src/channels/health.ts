import { and, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { channels, isEnabledAndFailing } from "../db/schema";

const DAY_MS = 24 * 60 * 60 * 1000;
const failedFor = (failingMs: number) => `every delivery failed for ${failingMs / DAY_MS} days`;

/**
 * The reason a channel failing for `failingMs` is disabled with: `failingSince` in ms,
 * shown to the second, as the SQL below writes it with SQLite's strftime.
 */
export const disabledReason = (failingSince: number, failingMs: number) =>
  `${failedFor(failingMs)} (since ${new Date(failingSince).toISOString().slice(0, 19)}Z)`;

/**
 * A channel whose deliveries have all failed for `failingMs` (its failure streak started
 * that long ago) is disabled, with the reason. Returns the statement, for the caller's batch.
 */
export function disableLongFailing(db: Db, now: number, failingMs: number) {
  return (
    db
      .update(channels)
      .set({
        enabled: false,
        disabledReason: sql`${failedFor(failingMs)} || ' (since ' || strftime('%Y-%m-%dT%H:%M:%SZ', ${channels.failingSince} / 1000, 'unixepoch') || ')'`,
        updatedAt: now,
      })
      // The channels_failing index's condition as written, then the range of it to disable:
      // the sweeper reads the failing channels every minute, never the whole table.
      .where(and(isEnabledAndFailing(channels.enabled, channels.failingSince), lt(channels.failingSince, now - failingMs)))
      .returning({ id: channels.id, name: channels.name, disabledReason: channels.disabledReason })
  );
}

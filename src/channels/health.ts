import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { channels } from "../db/schema";

/**
 * A channel whose deliveries have all failed for `failingMs` (its failure streak started
 * that long ago) is disabled, with the reason. Returns the statement, for the caller's batch.
 */
export function disableLongFailing(db: Db, now: number, failingMs: number) {
  return db
    .update(channels)
    .set({
      enabled: false,
      disabledReason: sql`'every delivery failed for 5 days (since ' || strftime('%Y-%m-%dT%H:%M:%SZ', ${channels.failingSince} / 1000, 'unixepoch') || ')'`,
      updatedAt: now,
    })
    .where(and(eq(channels.enabled, true), lt(channels.failingSince, now - failingMs)))
    .returning({ id: channels.id, name: channels.name, reason: channels.disabledReason });
}

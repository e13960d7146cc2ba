import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { iso } from "../db/client";
import { listEvents } from "../db/newest-events";
import { intakeSeen } from "../db/schema";

/** At most one write per kind in this long: HEAD needs no token, so anyone can send it. */
const RECORD_EVERY_MS = 10_000;

export type SeenKind = (typeof intakeSeen.$inferSelect)["kind"];

/**
 * A refused token is noted at most once a minute per isolate, before any D1 call: each
 * note is a D1 write, and a flood of wrong tokens must not cost one each (the admin UI only
 * needs to know that the portal reached us and was refused, and roughly when).
 */
export const REFUSED_NOTE_EVERY_MS = 60_000;
let refusedNotedAt = Number.NEGATIVE_INFINITY;

/** True for the first refused request of each minute in this isolate: that one is noted. */
export function refusedNoteDue(now: number): boolean {
  if (now - refusedNotedAt < REFUSED_NOTE_EVERY_MS) return false;
  refusedNotedAt = now;
  return true;
}

/** Notes that the intake saw a request of this kind now (a Test Connection, a refused token). */
export async function recordSeen(db: Db, kind: SeenKind, now: number): Promise<void> {
  await db
    .insert(intakeSeen)
    .values({ kind, at: now })
    .onConflictDoUpdate({ target: intakeSeen.kind, set: { at: now }, setWhere: sql`${intakeSeen.at} < ${now - RECORD_EVERY_MS}` });
}

/** What an admin connecting the portal wants to know: has it reached us yet, and how. */
export async function intakeStatus(db: Db) {
  const [seen, [lastEvent]] = await db.batch([db.select().from(intakeSeen), listEvents(db, undefined, 1, 1)]);
  const at = (kind: SeenKind) => iso(seen.find((s) => s.kind === kind)?.at);
  return {
    LastTestConnectionAt: at("head"),
    LastRefusedAt: at("unauthorized"),
    LastEventAt: iso(lastEvent?.receivedAt),
    LastEventType: lastEvent?.type ?? null,
  };
}

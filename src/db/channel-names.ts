import { eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { channels, deletedChannels } from "./schema";

/** Channels' names by id (deleted ones are missing). */
export async function channelNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.select({ id: channels.id, name: channels.name }).from(channels).where(inArray(channels.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Whether a channel with this id exists (a deleted one does not). */
export async function channelExists(db: Db, id: string): Promise<boolean> {
  return (await channelNames(db, [id])).size > 0;
}

/**
 * The channel with this id, whether it exists or was deleted (its deliveries outlive it):
 * one row if so, none for an id never made. A query, to run in the batch of what it is
 * asked for.
 */
export const knownChannel = (db: Db, id: string) =>
  db
    .select({ id: channels.id })
    .from(channels)
    .where(eq(channels.id, id))
    .union(db.select({ id: deletedChannels.id }).from(deletedChannels).where(eq(deletedChannels.id, id)));

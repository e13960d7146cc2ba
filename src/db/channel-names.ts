import { inArray } from "drizzle-orm";
import type { Db } from "./client";
import { channels } from "./schema";

/** Channels' names by id (deleted ones are missing). */
export async function channelNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.select({ id: channels.id, name: channels.name }).from(channels).where(inArray(channels.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

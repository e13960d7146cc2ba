import { and, eq, sql } from "drizzle-orm";
import { NotFound, Refused } from "../core/errors";
import type { Db } from "../db/client";
import { channelHeaders, channels } from "../db/schema";
import type { SecretBox } from "../security/secret-box";
import { type ChannelRecord, findChannel, type HeaderRow } from "./queries";
import { headerRows } from "./store";

/** The headers sub-resource (`/webhooks/{id}/headers`): its rules hold in the database write. */

/**
 * Adds a header in one statement that checks both rules as it writes, so concurrent adds
 * cannot together pass the limit or name a header twice (a unique index backs the second).
 */
export async function addHeader(db: Db, box: SecretBox, channel: ChannelRecord, header: { Name: string; Value: string }, max: number) {
  const [row] = await headerRows(box, channel.row.id, [header], Date.now());
  const { id, channelId, name, value, createdAt } = row!;
  const inserted = await db.all<{ id: string }>(sql`
    insert into channel_headers (id, channel_id, name, value, created_at)
    select ${id}, ${channelId}, ${name}, ${value}, ${createdAt}
    where exists (select 1 from channels where id = ${channelId})
      and (select count(*) from channel_headers where channel_id = ${channelId}) < ${max}
      and not exists (select 1 from channel_headers where channel_id = ${channelId} and lower(name) = lower(${name}))
    on conflict do nothing
    returning id`);
  if (inserted.length) return row!;
  // Refused: say why, from the state that refused it.
  const now = await findChannel(db, channelId);
  if (!now) throw new NotFound("Webhook");
  if (now.headers.some((h) => h.name.toLowerCase() === name.toLowerCase())) throw duplicateHeader(name);
  throw new Refused("Headers", `a webhook has at most ${max} headers`);
}

const duplicateHeader = (name: string) => new Refused("Name", `the webhook already has a header named ${name}`);

/** The unique index on a channel's header names refused a write. */
const isDuplicateName = (err: unknown) =>
  /UNIQUE constraint failed: .*channel_headers/i.test(String((err as Error)?.message ?? err) + String((err as { cause?: Error })?.cause?.message ?? ""));

export async function updateHeader(db: Db, box: SecretBox, channel: ChannelRecord, headerId: string, patch: { Name?: string; Value?: string }) {
  const current = channel.headers.find((h) => h.id === headerId);
  if (!current) throw new NotFound("Header");
  if (patch.Name && channel.headers.some((h) => h.id !== headerId && h.name.toLowerCase() === patch.Name!.toLowerCase())) {
    throw duplicateHeader(patch.Name);
  }
  const row: HeaderRow = {
    ...current,
    name: patch.Name ?? current.name,
    value: patch.Value === undefined ? current.value : await box.encrypt(patch.Value),
  };
  try {
    await db.update(channelHeaders).set({ name: row.name, value: row.value }).where(eq(channelHeaders.id, headerId));
  } catch (err) {
    // Another request took the name since this one read the channel.
    if (isDuplicateName(err)) throw duplicateHeader(row.name);
    throw err;
  }
  return row;
}

export async function deleteHeader(db: Db, channelId: string, headerId: string) {
  // The channel is looked for in the same round trip: an unknown one is named as such, as
  // on the header's other routes.
  const [channel, deleted] = await db.batch([
    db.select({ id: channels.id }).from(channels).where(eq(channels.id, channelId)),
    db
      .delete(channelHeaders)
      .where(and(eq(channelHeaders.id, headerId), eq(channelHeaders.channelId, channelId)))
      .returning({ id: channelHeaders.id }),
  ]);
  if (channel.length === 0) throw new NotFound("Webhook");
  if (deleted.length === 0) throw new NotFound("Header");
}

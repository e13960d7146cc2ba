import { and, asc, type Column, eq, inArray, isNotNull, notInArray, notLike, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { iso } from "../db/client";
import { channelEvents, channelHeaders, channels, deletedChannels, deliveries, LIVE_STATUSES } from "../db/schema";
import { type DeliveryMessage, messageFor } from "../delivery/message";
import { UNSUBSCRIBED } from "../delivery/outcome";
import { ApiError } from "../errors";
import { type EventType, eventTypes } from "../events/catalog";
import { bytesToBase64 } from "../security/encoding";
import type { SecretBox } from "../security/secret-box";
import { countBulk } from "../stats/counters";
import type { ChannelCreateInput, ChannelPatchInput, ChannelView } from "./schemas";

type ChannelRow = typeof channels.$inferSelect;
type HeaderRow = typeof channelHeaders.$inferSelect;

/** A channel row with its subscriptions and (still encrypted) headers. */
export interface ChannelRecord {
  row: ChannelRow;
  events: EventType[];
  headers: HeaderRow[];
}

const catalogOrder = (a: string, b: string) => eventTypes.indexOf(a as EventType) - eventTypes.indexOf(b as EventType);

function assemble(rows: ChannelRow[], events: { channelId: string; eventType: string }[], headers: HeaderRow[]): ChannelRecord[] {
  return rows.map((row) => ({
    row,
    events: events
      .filter((e) => e.channelId === row.id)
      .map((e) => e.eventType as EventType)
      .sort(catalogOrder),
    headers: headers.filter((h) => h.channelId === row.id),
  }));
}

export async function listChannels(db: Db, page: number, perPage: number): Promise<ChannelRecord[]> {
  const pageIds = db
    .select({ id: channels.id })
    .from(channels)
    .orderBy(asc(channels.createdAt), asc(channels.id))
    .limit(perPage)
    .offset((page - 1) * perPage);
  const [rows, events, headers] = await db.batch([
    db.select().from(channels).where(inArray(channels.id, pageIds)).orderBy(asc(channels.createdAt), asc(channels.id)),
    db.select().from(channelEvents).where(inArray(channelEvents.channelId, pageIds)),
    db.select().from(channelHeaders).where(inArray(channelHeaders.channelId, pageIds)).orderBy(asc(channelHeaders.createdAt)),
  ]);
  return assemble(rows, events, headers);
}

export async function findChannel(db: Db, id: string): Promise<ChannelRecord | undefined> {
  const [rows, events, headers] = await db.batch([
    db.select().from(channels).where(eq(channels.id, id)),
    db.select().from(channelEvents).where(eq(channelEvents.channelId, id)),
    db.select().from(channelHeaders).where(eq(channelHeaders.channelId, id)).orderBy(asc(channelHeaders.createdAt)),
  ]);
  return assemble(rows, events, headers)[0];
}

export async function getChannel(db: Db, id: string): Promise<ChannelRecord> {
  const record = await findChannel(db, id);
  if (!record) throw ApiError.notFound("Webhook");
  return record;
}

export async function channelView(record: ChannelRecord, box: SecretBox): Promise<ChannelView> {
  const { row } = record;
  return {
    ID: row.id,
    Name: row.name,
    URL: row.url,
    Method: row.method,
    Timeout: row.timeoutSeconds,
    Events: record.events,
    Headers: await Promise.all(record.headers.map(async (h) => ({ ID: h.id, Name: h.name, Value: await box.decrypt(h.value) }))),
    Enabled: row.enabled,
    DisabledReason: row.disabledReason,
    Paused: row.paused,
    RateLimit: row.rateLimit,
    Filter: row.filter === null ? null : JSON.parse(row.filter),
    Format: row.format,
    CreatedAt: iso(row.createdAt)!,
    UpdatedAt: iso(row.updatedAt)!,
  };
}

async function headerRows(box: SecretBox, channelId: string, headers: { Name: string; Value: string }[], now: number) {
  // Distinct creation times keep the admin's order without a position column.
  return Promise.all(
    headers.map(async (h, i) => ({
      id: crypto.randomUUID(),
      channelId,
      name: h.Name,
      value: await box.encrypt(h.Value),
      createdAt: now + i,
    })),
  );
}

export async function createChannel(db: Db, box: SecretBox, input: ChannelCreateInput, secret: string): Promise<ChannelRecord> {
  const now = Date.now();
  const row: ChannelRow = {
    id: crypto.randomUUID(),
    name: input.Name,
    url: input.URL,
    method: input.Method,
    timeoutSeconds: input.Timeout,
    enabled: input.Enabled,
    disabledReason: null,
    secret: await box.encrypt(secret),
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    paused: input.Paused,
    rateLimit: input.RateLimit,
    filter: input.Filter === null ? null : JSON.stringify(input.Filter),
    filterVersion: now,
    format: input.Format,
    createdAt: now,
    updatedAt: now,
  };
  const events = input.Events.map((eventType) => ({ channelId: row.id, eventType }));
  const headers = await headerRows(box, row.id, input.Headers, now);
  await db.batch([
    db.insert(channels).values(row),
    db.insert(channelEvents).values(events),
    ...(headers.length ? [db.insert(channelHeaders).values(headers)] : []),
  ]);
  return { row, events: [...input.Events].sort(catalogOrder), headers };
}

/**
 * Changes the fields given. Resuming a paused channel releases its held deliveries, in the
 * same batch: they come back as `released`, oldest first, for the caller to queue.
 */
export async function updateChannel(db: Db, box: SecretBox, id: string, patch: ChannelPatchInput): Promise<ChannelRecord & { released: DeliveryMessage[] }> {
  const current = await getChannel(db, id);
  const now = Date.now();
  const enabled = patch.Enabled ?? current.row.enabled;
  const row: ChannelRow = {
    ...current.row,
    name: patch.Name ?? current.row.name,
    url: patch.URL ?? current.row.url,
    method: patch.Method ?? current.row.method,
    timeoutSeconds: patch.Timeout ?? current.row.timeoutSeconds,
    enabled,
    // Re-enabling starts afresh: no reason, no failure streak.
    disabledReason: enabled ? null : current.row.disabledReason,
    failingSince: enabled && !current.row.enabled ? null : current.row.failingSince,
    paused: patch.Paused ?? current.row.paused,
    rateLimit: patch.RateLimit === undefined ? current.row.rateLimit : patch.RateLimit,
    // A new filter applies to events received from now on; queued deliveries keep going.
    filter: patch.Filter === undefined ? current.row.filter : patch.Filter === null ? null : JSON.stringify(patch.Filter),
    filterVersion: patch.Filter === undefined ? current.row.filterVersion : Math.max(now, current.row.filterVersion + 1),
    format: patch.Format ?? current.row.format,
    updatedAt: now,
  };
  const resumed = current.row.paused && !row.paused && row.enabled;
  const events = patch.Events?.map((eventType) => ({ channelId: id, eventType }));
  const dropped = patch.Events ? current.events.filter((type) => !patch.Events!.includes(type)) : [];
  const headers = patch.Headers && (await headerRows(box, id, patch.Headers, now));
  const results = await db.batch([
    db
      .update(channels)
      .set({
        name: row.name,
        url: row.url,
        method: row.method,
        timeoutSeconds: row.timeoutSeconds,
        enabled: row.enabled,
        disabledReason: row.disabledReason,
        failingSince: row.failingSince,
        paused: row.paused,
        rateLimit: row.rateLimit,
        filter: row.filter,
        filterVersion: row.filterVersion,
        format: row.format,
        updatedAt: now,
      })
      .where(eq(channels.id, id)),
    // Disabling cancels what waits, held deliveries included (they have no queue message
    // that would find the channel disabled).
    ...(!row.enabled && current.row.enabled
      ? [
          countBulk(db, heldOf(id), "cancel"),
          db.update(deliveries).set({ status: "cancelled", lastError: "webhook disabled", nextAttemptAt: null, updatedAt: now }).where(heldOf(id)),
        ]
      : []),
    // An event type the channel no longer wants is not sent to it, not even a retry.
    ...(dropped.length
      ? [
          countBulk(db, unsubscribedLive(id, patch.Events!), "cancel"),
          db
            .update(deliveries)
            .set({ status: "cancelled", lastError: UNSUBSCRIBED, nextAttemptAt: null, updatedAt: now })
            .where(unsubscribedLive(id, patch.Events!)),
        ]
      : []),
    ...(events ? [db.delete(channelEvents).where(eq(channelEvents.channelId, id)), db.insert(channelEvents).values(events)] : []),
    ...(headers ? [db.delete(channelHeaders).where(eq(channelHeaders.channelId, id))] : []),
    ...(headers?.length ? [db.insert(channelHeaders).values(headers)] : []),
    // Last, so the subscription above is the one that counts: held deliveries go back in line.
    ...(resumed ? [releaseHeld(db, id, now)] : []),
  ]);
  const released = resumed ? (results.at(-1) as { id: string; generation: number; createdAt: number; seq: number }[]) : [];
  return {
    row,
    events: patch.Events ? [...patch.Events].sort(catalogOrder) : current.events,
    headers: headers ?? current.headers,
    // Oldest first: the order they reach the queue is the order they are sent.
    released: released.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq).map(messageFor),
  };
}

/** A resumed channel's held deliveries, due now, in a new generation. */
function releaseHeld(db: Db, channelId: string, now: number) {
  return db
    .update(deliveries)
    .set({ status: "pending", nextAttemptAt: now, generation: sql`${deliveries.generation} + 1`, updatedAt: now })
    .where(heldOf(channelId))
    .returning({ id: deliveries.id, generation: deliveries.generation, createdAt: deliveries.createdAt, seq: sql<number>`rowid` });
}

const heldOf = (channelId: string) => and(eq(deliveries.channelId, channelId), eq(deliveries.status, "held"));
const liveOf = (channelId: string) => and(eq(deliveries.channelId, channelId), inArray(deliveries.status, [...LIVE_STATUSES]));
const unsubscribedLive = (channelId: string, events: string[]) => and(liveOf(channelId), notInArray(deliveries.eventType, events));

/** Deletes the channel and cancels its deliveries still waiting to be sent, atomically. */
export async function deleteChannel(db: Db, id: string): Promise<void> {
  const now = Date.now();
  const [, , , deleted] = await db.batch([
    countBulk(db, liveOf(id), "cancel"),
    // Its deliveries still say whose they were.
    db
      .insert(deletedChannels)
      .select(
        db
          .select({ id: channels.id, name: channels.name, deletedAt: sql<number>`${now}`.as("deleted_at") })
          .from(channels)
          .where(eq(channels.id, id)),
      )
      .onConflictDoNothing(),
    db.update(deliveries).set({ status: "cancelled", lastError: "webhook deleted", nextAttemptAt: null, updatedAt: now }).where(liveOf(id)),
    db.delete(channels).where(eq(channels.id, id)).returning({ id: channels.id }),
  ]);
  if (deleted.length === 0) throw ApiError.notFound("Webhook");
}

// --- headers sub-resource -------------------------------------------------------------

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
  if (!now) throw ApiError.notFound("Webhook");
  if (now.headers.some((h) => h.name.toLowerCase() === name.toLowerCase())) throw duplicateHeader(name);
  throw ApiError.invalid("Headers", `a webhook has at most ${max} headers`);
}

const duplicateHeader = (name: string) => ApiError.invalid("Name", `the webhook already has a header named ${name}`);

/** The unique index on a channel's header names refused a write. */
const isDuplicateName = (err: unknown) =>
  /UNIQUE constraint failed: .*channel_headers/i.test(String((err as Error)?.message ?? err) + String((err as { cause?: Error })?.cause?.message ?? ""));

export async function updateHeader(db: Db, box: SecretBox, channel: ChannelRecord, headerId: string, patch: { Name?: string; Value?: string }) {
  const current = channel.headers.find((h) => h.id === headerId);
  if (!current) throw ApiError.notFound("Header");
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
  const deleted = await db
    .delete(channelHeaders)
    .where(and(eq(channelHeaders.id, headerId), eq(channelHeaders.channelId, channelId)))
    .returning({ id: channelHeaders.id });
  if (deleted.length === 0) throw ApiError.notFound("Header");
}

export async function headerView(row: HeaderRow, box: SecretBox) {
  return { ID: row.id, Name: row.name, Value: await box.decrypt(row.value), WebhookID: row.channelId };
}

// --- signing secret -------------------------------------------------------------------

export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export function newSigningSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function rotateSecret(db: Db, box: SecretBox, channel: ChannelRecord): Promise<string> {
  const secret = newSigningSecret();
  const now = Date.now();
  await db
    .update(channels)
    .set({
      secret: await box.encrypt(secret),
      previousSecret: channel.row.secret,
      previousSecretExpiresAt: now + SECRET_OVERLAP_MS,
      updatedAt: now,
    })
    .where(eq(channels.id, channel.row.id));
  return secret;
}

// --- encryption key rotation ----------------------------------------------------------

/**
 * Re-encrypts, under the current ENCRYPTION_KEY, up to `limit` channels and headers still
 * written with the previous key. The sweeper calls it every minute during a rotation.
 */
export async function reencryptStale(db: Db, box: SecretBox, limit = 200): Promise<number> {
  if (!box.rotating) return 0;
  const stale = (column: Column) => notLike(column, `${box.currentPrefix}%`);
  const [staleChannels, staleHeaders] = await db.batch([
    db
      .select({ id: channels.id, secret: channels.secret, previousSecret: channels.previousSecret })
      .from(channels)
      .where(or(stale(channels.secret), and(isNotNull(channels.previousSecret), stale(channels.previousSecret))))
      .limit(limit),
    db.select({ id: channelHeaders.id, value: channelHeaders.value }).from(channelHeaders).where(stale(channelHeaders.value)).limit(limit),
  ]);
  const again = async (stored: string) => box.encrypt(await box.decrypt(stored));
  // Ciphertexts first: a drizzle query is a thenable, so an async callback returning one
  // would run it on its own instead of in the batch.
  const channelValues = await Promise.all(
    staleChannels.map(async (c) => ({ id: c.id, secret: await again(c.secret), previousSecret: c.previousSecret && (await again(c.previousSecret)) })),
  );
  const headerValues = await Promise.all(staleHeaders.map(async (h) => ({ id: h.id, value: await again(h.value) })));
  const updates = [
    ...channelValues.map(({ id, ...values }) => db.update(channels).set(values).where(eq(channels.id, id))),
    ...headerValues.map(({ id, value }) => db.update(channelHeaders).set({ value }).where(eq(channelHeaders.id, id))),
  ];
  const [first, ...rest] = updates;
  if (first) await db.batch([first, ...rest]);
  return updates.length;
}

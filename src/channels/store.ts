import { eq, sql } from "drizzle-orm";
import { NotFound, Refused } from "../core/errors";
import type { Db } from "../db/client";
import type { DeliveryMessage } from "../db/records";
import { channelEvents, channelHeaders, channels, deletedChannels, deliveries } from "../db/schema";
import { UNSUBSCRIBED } from "../delivery/outcome";
import { type AuthInput, sealAuth } from "../integrations/auth";
import { messageFor } from "../queue/enqueue";
import type { SecretBox } from "../security/secret-box";
import { countBulk } from "../stats/counters";
import { type ChannelRecord, type ChannelRow, catalogOrder, getChannel } from "./queries";
import type { ChannelCreateInput, ChannelPatchInput } from "./schemas";
import { liveOf, relane, releaseHeld, releaseWaiting, unsubscribedLive } from "./waiting-deliveries";

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
    transform: input.Transform?.Body ?? null,
    auth: await sealed(box, input.Auth, null),
    ordering: input.Ordering === null ? null : JSON.stringify(input.Ordering),
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
    transform: patch.Transform === undefined ? current.row.transform : (patch.Transform?.Body ?? null),
    auth: patch.Auth === undefined ? current.row.auth : await sealed(box, patch.Auth, current.row.auth),
    ordering: patch.Ordering === undefined ? current.row.ordering : patch.Ordering === null ? null : JSON.stringify(patch.Ordering),
    updatedAt: now,
  };
  // Either may have been set before: the pair is judged as it would be saved.
  if (row.transform !== null && row.format !== "raw") {
    throw new Refused("Transform", "cannot be used with a chat Format (slack, teams, discord): the Transform writes the body");
  }
  const resumed = current.row.paused && !row.paused && row.enabled;
  const reordered = row.ordering !== current.row.ordering && row.enabled;
  const dropped = patch.Events ? current.events.filter((type) => !patch.Events!.includes(type)) : [];
  const releasing = reordered || (dropped.length > 0 && row.ordering !== null && row.enabled);
  const events = patch.Events?.map((eventType) => ({ channelId: id, eventType }));
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
        transform: row.transform,
        auth: row.auth,
        ordering: row.ordering,
        updatedAt: now,
      })
      .where(eq(channels.id, id)),
    // Disabling cancels everything that waits, at once: held deliveries have no queue
    // message that would find the channel disabled, and an attempt in flight must find its
    // delivery ended (its late answer then changes nothing: src/db/current-run.ts).
    ...(!row.enabled && current.row.enabled
      ? [
          countBulk(db, liveOf(id), "cancel"),
          db.update(deliveries).set({ status: "cancelled", lastError: "webhook disabled", nextAttemptAt: null, updatedAt: now }).where(liveOf(id)),
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
    // A new Ordering puts the waiting deliveries in its lanes; those that waited behind a
    // head are sent again, to be judged by the new lanes. So are they when a cancelled
    // type may have been their head: each parks anew behind the next head, or starts.
    ...(reordered ? [relane(db, id)] : []),
    ...(releasing ? [releaseWaiting(db, id, now)] : []),
    // Last, so the subscription above is the one that counts: held deliveries go back in line.
    ...(resumed ? [releaseHeld(db, id, now)] : []),
  ]);
  type Released = { channelId: string; id: string; generation: number }[];
  const released = [...(resumed ? (results.at(-1) as Released) : []), ...(releasing ? (results.at(resumed ? -2 : -1) as Released) : [])];
  return {
    row,
    events: patch.Events ? [...patch.Events].sort(catalogOrder) : current.events,
    headers: headers ?? current.headers,
    // Oldest first (ids are in time order): the order they reach the queue is the order they are sent.
    released: released.sort((a, b) => (a.id < b.id ? -1 : 1)).map(messageFor),
  };
}

/** A channel's custom headers as rows, values encrypted, in the order given. */
export async function headerRows(box: SecretBox, channelId: string, headers: { Name: string; Value: string }[], now: number) {
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

/** The stored form of an `Auth` (its secret encrypted, or kept when left out). */
async function sealed(box: SecretBox, input: AuthInput | null, stored: string | null): Promise<string | null> {
  const result = await sealAuth(input, stored, box);
  if (!result.ok) throw new Refused(result.field, result.message);
  return result.value;
}

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
  if (deleted.length === 0) throw new NotFound("Webhook");
}

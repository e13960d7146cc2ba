import { and, type Column, eq, isNotNull, notLike, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { channelHeaders, channels } from "../db/schema";
import { bytesToBase64 } from "../security/encoding";
import type { SecretBox } from "../security/secret-box";
import type { ChannelRecord } from "./queries";

/** Signing secrets (rotation with a 24-hour overlap) and the ENCRYPTION_KEY rotation. */

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

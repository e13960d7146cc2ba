import { DurableObject } from "cloudflare:workers";
import type { ParkedBodiesApi } from "../core/env";
import { log } from "../core/log";

/**
 * The body of an event accepted during a D1 outage that is too large for its storing
 * queue message (a message holds at most 128 KB, an intake body up to 256 KiB:
 * https://developers.cloudflare.com/queues/platform/limits/). One object per event (named
 * by its id) keeps the bytes in its own storage until the storing consumer has put the
 * event in D1, then forgets them. Durable: a Durable Object's storage write is confirmed
 * only once it is persisted (https://developers.cloudflare.com/durable-objects/api/storage-api/).
 *
 * Kept in 64 KiB pieces, below every per-value limit Durable Object storage has had
 * (128 KiB for the key-value backend, 2 MB for SQLite).
 */
const PIECE_BYTES = 64 * 1024;

/**
 * Bytes nobody has read for this long are dropped by an alarm (ms). Each read pushes it
 * back, and a parked event's message reads them every time it is handled: at least every
 * 5 minutes while D1 is down (src/intake/store-parked.ts), every hour once dead-lettered.
 * 14 days is the longest a queue keeps a message unconsumed, so bytes unread that long
 * belong to no message: parked by a request that then answered 503 (the queue refused),
 * or kept after their `forget`, which a slow `keep` can outrun.
 */
export const UNREAD_BODY_TTL_MS = 14 * 24 * 60 * 60 * 1000;

export class ParkedBodies extends DurableObject implements ParkedBodiesApi {
  /** Keeps `bytes` (at most 256 KiB) until `forget`, or UNREAD_BODY_TTL_MS unread; a second call replaces them. */
  async keep(bytes: ArrayBuffer): Promise<void> {
    const pieces: Record<string, ArrayBuffer | number> = { count: Math.ceil(bytes.byteLength / PIECE_BYTES) };
    for (let i = 0; i * PIECE_BYTES < bytes.byteLength; i++) pieces[`piece-${i}`] = bytes.slice(i * PIECE_BYTES, (i + 1) * PIECE_BYTES);
    await this.ctx.storage.put(pieces);
    await this.ctx.storage.setAlarm(Date.now() + UNREAD_BODY_TTL_MS);
  }

  /** The bytes kept, or null if there are none (never kept, or forgotten already). A read keeps them longer. */
  async read(): Promise<ArrayBuffer | null> {
    const count = await this.ctx.storage.get<number>("count");
    if (count === undefined) return null;
    await this.ctx.storage.setAlarm(Date.now() + UNREAD_BODY_TTL_MS);
    const keys = Array.from({ length: count }, (_, i) => `piece-${i}`);
    const stored = await this.ctx.storage.get<ArrayBuffer>(keys);
    const out = new Uint8Array(keys.reduce((sum, k) => sum + (stored.get(k)?.byteLength ?? 0), 0));
    let at = 0;
    for (const k of keys) {
      const piece = stored.get(k);
      if (!piece) return null;
      out.set(new Uint8Array(piece), at);
      at += piece.byteLength;
    }
    return out.buffer;
  }

  /** Drops the bytes once the event is in D1, or when their event could not be parked after all. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** Nobody read the bytes for UNREAD_BODY_TTL_MS: no message will come for them. */
  override async alarm(): Promise<void> {
    log.warn("parked body dropped: unread for 14 days", { pieces: (await this.ctx.storage.get<number>("count")) ?? 0 });
    await this.ctx.storage.deleteAll();
  }
}

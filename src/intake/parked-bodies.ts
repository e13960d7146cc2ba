import { DurableObject } from "cloudflare:workers";

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

export class ParkedBodies extends DurableObject {
  /** Keeps `bytes` (at most 256 KiB) until `forget`; a second call replaces them. */
  async keep(bytes: ArrayBuffer): Promise<void> {
    const pieces: Record<string, ArrayBuffer | number> = { count: Math.ceil(bytes.byteLength / PIECE_BYTES) };
    for (let i = 0; i * PIECE_BYTES < bytes.byteLength; i++) pieces[`piece-${i}`] = bytes.slice(i * PIECE_BYTES, (i + 1) * PIECE_BYTES);
    await this.ctx.storage.put(pieces);
  }

  /** The bytes kept, or null if there are none (never kept, or forgotten already). */
  async read(): Promise<ArrayBuffer | null> {
    const count = await this.ctx.storage.get<number>("count");
    if (count === undefined) return null;
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

  /** Drops the bytes once the event is in D1. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

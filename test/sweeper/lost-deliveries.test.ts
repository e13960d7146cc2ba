/**
 * The sweeper finds deliveries whose queue message was lost and sends them again: once per
 * grace period, and a large backlog in slices, as much as the queue takes.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { RECLAIM_SLICE } from "../../src/sweeper/sweep";
import { recordingQueue } from "../doubles";
import { count, createChannel, delivery, makeDelivery, runSweep, target } from "../helpers";

/** `n` pending deliveries to `channelId`, due 10 minutes ago, with no queue message: the sweeper's to find. */
async function lostBacklog(channelId: string, n: number) {
  const at = Date.now() - 10 * 60_000;
  const rows = Array.from({ length: n }, () => timeOrderedId(at));
  for (let i = 0; i < n; i += 500) {
    const slice = JSON.stringify(rows.slice(i, i + 500));
    await env.DB.batch([
      env.DB.prepare("insert into events (id, type, body, received_at) select value, 'UserRegistered', '{}', ?2 from json_each(?1)").bind(slice, at),
      env.DB.prepare(
        `insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at)
         select value, value, ?2, 'UserRegistered', 'pending', ?3, ?3, ?3 from json_each(?1)`,
      ).bind(slice, channelId, at),
    ]);
  }
}

beforeEach(async () => {
  await env.DB.prepare("delete from channels").run();
  await env.DB.prepare("delete from deliveries").run();
});

describe("the sweeper re-sends lost deliveries", () => {
  it("re-enqueues deliveries whose queue message was lost, once per grace period", async () => {
    const channel = await createChannel();
    const lostPending = await makeDelivery(channel.ID);
    const lostRetrying = await makeDelivery(channel.ID);
    const fresh = await makeDelivery(channel.ID);
    const now = Date.now();
    // Lost: due long ago, and nothing has touched them since.
    await env.DB.prepare("update deliveries set next_attempt_at = ?1, updated_at = ?1 where id = ?2")
      .bind(now - 3 * 60_000, lostPending.deliveryId)
      .run();
    await env.DB.prepare("update deliveries set status = 'retrying', next_attempt_at = ?1, updated_at = ?1 - 5000 where id = ?2")
      .bind(now - 6 * 60_000, lostRetrying.deliveryId)
      .run();

    const queue = recordingQueue();
    const { reclaimed } = await runSweep({ DELIVERIES: queue }, now);
    const ids = reclaimed.map((m) => m.deliveryId);
    expect(ids).toEqual(expect.arrayContaining([lostPending.deliveryId, lostRetrying.deliveryId]));
    expect(ids).not.toContain(fresh.deliveryId);
    expect(queue.sent.flat().map((m) => m.body)).toEqual(reclaimed);
    expect(await delivery(lostPending.deliveryId)).toMatchObject({ next_attempt_at: now, generation: 1 });
    expect(reclaimed.find((m) => m.deliveryId === lostPending.deliveryId)!.generation).toBe(1);

    // Not again after one grace period: each reclaim doubles the wait.
    const again = await runSweep({ DELIVERIES: recordingQueue() }, now + 3 * 60_000);
    expect(again.reclaimed.map((m) => m.deliveryId)).not.toContain(lostPending.deliveryId);
    const later = await runSweep({ DELIVERIES: recordingQueue() }, now + 5 * 60_000);
    expect(later.reclaimed.map((m) => m.deliveryId)).toContain(lostPending.deliveryId);
  });

  it("re-sends 2,500 lost deliveries in one run, in slices, at most 100 to a sendBatch", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await lostBacklog(channel.ID, 2500);
    const queue = recordingQueue();
    const { reclaimed } = await runSweep({ DELIVERIES: queue });
    expect(reclaimed).toHaveLength(2500);
    expect(new Set(queue.ids).size).toBe(2500);
    expect(Math.max(...queue.sent.map((call) => call.length))).toBeLessThanOrEqual(100);
    // Every one in its new generation, due now: none left for the next run.
    expect(await count("deliveries", "generation = 1 and channel_id = ?", channel.ID)).toBe(2500);
    expect((await runSweep({ DELIVERIES: recordingQueue() })).reclaimed).toEqual([]);
  });

  it("stops at the first slice the queue refuses, leaving the rest for a later run", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await lostBacklog(channel.ID, 2500);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { reclaimed } = await runSweep({ DELIVERIES: recordingQueue(true) });
    expect(reclaimed).toHaveLength(RECLAIM_SLICE);
    expect(await count("deliveries", "generation = 0 and channel_id = ?", channel.ID)).toBe(2500 - RECLAIM_SLICE);
  });
});

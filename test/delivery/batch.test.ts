/** A consumer batch as a whole: one delivery's fault does not hold back the rest, and what the batch costs in D1. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingD1 } from "../doubles";
import { attemptsOf, consume, createChannel, delivery, makeDelivery, receivedAt, target } from "../helpers";

describe("a batch", () => {
  it("a delivery whose secrets cannot be decrypted is a failed attempt with the reason; the rest of its batch is delivered", async () => {
    const url = target("ok");
    const good = await createChannel({ URL: url });
    const broken = await createChannel({ URL: url });
    // A secret this deployment cannot decrypt makes that delivery throw.
    await env.DB.prepare("update channels set secret = 'enc1:deadbeef:AAAA' where id = ?").bind(broken.ID).run();
    const ok1 = await makeDelivery(good.ID);
    const bad = await makeDelivery(broken.ID);
    const ok2 = await makeDelivery(good.ID);

    const result = await consume([ok1.deliveryId, bad.deliveryId, ok2.deliveryId]);
    expect(result.acked.sort()).toEqual(["msg-0", "msg-2"]);
    expect(result.retried).toEqual(["msg-1"]);
    expect((await delivery(ok1.deliveryId)).status).toBe("succeeded");
    expect((await delivery(ok2.deliveryId)).status).toBe("succeeded");
    // A fault of configuration: the retry schedule runs (a fixed ENCRYPTION_KEY can cure it).
    expect(await delivery(bad.deliveryId)).toMatchObject({ status: "retrying", attempt_count: 1, last_status_code: null });
    expect((await delivery(bad.deliveryId)).last_error).toMatch(
      /^the webhook's secrets could not be decrypted \(is ENCRYPTION_KEY the key they were stored with\?\): /,
    );
    const [attempt] = await attemptsOf(bad.deliveryId);
    expect(attempt).toMatchObject({ attempt: 1, status_code: null, duration_ms: 0 });
    expect(attempt.error).toBe((await delivery(bad.deliveryId)).last_error);
    expect(result.delays[1]).toBeGreaterThanOrEqual(4); // the schedule's first step, 5 s ± 20%
    expect(await receivedAt(url)).toHaveLength(2);
  });

  it("makes 2 D1 round trips for a batch of 10, one read and one write, and writes 1 or 2 rows per attempt", async () => {
    const channels = await Promise.all([createChannel({ URL: target("ok") }), createChannel({ URL: target("status/500") })]);
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await makeDelivery(channels[i % 2]!.ID)).deliveryId);
    const { db, counter } = countingD1(env.DB);
    const result = await consume(ids, { DB: db });
    expect(result.acked).toHaveLength(5);
    expect(result.retried).toHaveLength(5);
    expect(counter.roundTrips).toBe(2);
    // Rows D1 bills: a success rewrites its delivery's row (1; it leaves the live index),
    // a retry its row and its live-index entry (2); the failing channel starts its streak
    // (its row and its entry in the failing-channels index: 2). The attempt log is in the
    // row: it costs nothing more. The stats' counts: one row per channel and hour of
    // creation the batch touches (2 here), however many deliveries end.
    expect(counter.rowsWritten).toBe(5 * 1 + 5 * 2 + 2 + 2);
  });
});

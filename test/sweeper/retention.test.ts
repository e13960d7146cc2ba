import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { attemptsOf, consume, count, createChannel, makeDelivery, runSweep, target } from "../helpers";

describe("the sweeper purges old data", () => {
  it("purges events and deliveries (with their attempts) older than RETENTION_DAYS", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const old = await makeDelivery(channel.ID, undefined, Date.now() - 31 * 86400_000);
    const recent = await makeDelivery(channel.ID);
    await consume([old.deliveryId, recent.deliveryId]);
    await runSweep({ DELIVERIES: recordingQueue() });
    expect(await count("events", "id = ?", old.eventId)).toBe(0);
    expect(await count("deliveries", "id = ?", old.deliveryId)).toBe(0);
    expect(await count("events", "id = ?", recent.eventId)).toBe(1);
    expect(await attemptsOf(recent.deliveryId)).toHaveLength(1);
  });
});

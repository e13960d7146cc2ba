/** Ordered lanes and the sweeper: lost messages and lost due times, and only a lane's head sent again. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { appWith, count, receivedAt, runSweep, target } from "../helpers";
import { testQueue } from "../queue-driver";
import { event, expectInOrder, orderedChannel, passes, post, putEarlierTestsAside } from "./lanes";

beforeEach(putEarlierTestsAside);

describe("Ordering and the sweeper", () => {
  it("goes on in order after a restart that loses every queued message", async () => {
    const url = target("ok");
    const channel = await orderedChannel(url);
    // The sweeper takes a delivery for lost a second after it was due.
    const queue = testQueue({ LOST_AFTER_SECONDS: "1,1" });
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 10; seq++) await post(app, event(1, seq));
    await queue.run({ until: async () => (await receivedAt(url)).length >= 4 });
    await queue.idle();
    queue.drop();

    // Waiting deliveries are not lost ones: the sweeper sends the lane's head again, only.
    await passes(5000, channel.ID);
    const { reclaimed } = await runSweep(queue.bindings);
    expect(reclaimed.length).toBe(1);
    await queue.run();

    expectInOrder(
      await receivedAt(url),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expectInOrder(
      await receivedAt(url),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expect(await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)).toBe(10);
  });

  it("lets the sweeper give a lane whose head has no due time one (a wake-up and its due time both lost)", async () => {
    const url = target("ok");
    const channel = await orderedChannel(url);
    const queue = testQueue({ LOST_AFTER_SECONDS: "1,1" });
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    // As if all three had parked and nothing would wake them.
    await env.DB.prepare("update deliveries set next_attempt_at = null where channel_id = ?").bind(channel.ID).run();
    queue.drop();
    // Each run gives the lane's head a due time, and sends it once that is past its grace.
    for (let run = 0; run < 6 && (await count("deliveries", "channel_id = ? and status = 'succeeded'", channel.ID)) < 3; run++) {
      await runSweep(queue.bindings);
      await passes(5000, channel.ID);
      await runSweep(queue.bindings);
      await queue.run();
    }
    expectInOrder(await receivedAt(url), [1, 2, 3]);
  });

  it("lets the sweeper send only a lane's head: the deliveries behind it wait, not lost", async () => {
    const url = target("hold/200");
    const channel = await orderedChannel(url);
    const queue = testQueue();
    const app = appWith({ DELIVERIES: queue.binding });
    for (let seq = 1; seq <= 3; seq++) await post(app, event(1, seq));
    // The head is held at the target; the two behind it park.
    const running = queue.run({ until: async () => (await count("deliveries", "channel_id = ? and next_attempt_at is null", channel.ID)) === 2 });
    await running;
    await passes(5000, channel.ID);
    const { reclaimed } = await runSweep(testQueue({ LOST_AFTER_SECONDS: "1,1" }).bindings);
    const [head] = (await env.DB.prepare("select id from deliveries where channel_id = ? order by id").bind(channel.ID).all<{ id: string }>()).results;
    expect(reclaimed.map((r) => r.deliveryId)).toEqual([head!.id]);
    await fetch(`${new URL(url).origin}/__release?path=${encodeURIComponent(new URL(url).pathname)}`);
  });
});

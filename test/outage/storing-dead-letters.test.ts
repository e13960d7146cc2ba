/** A parked event that keeps crashing the storing consumer: its dead-letter queue, which never drops an event D1 cannot take yet. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { DEAD_LETTER_RETRY_SECONDS } from "../../src/intake/store-dead-letters";
import wranglerToml from "../../wrangler.toml?raw";
import { recordingQueue } from "../doubles";
import { count, createChannel, runQueue, target } from "../helpers";
import { down, largeBody, parkedMessage, parkedQueue, STORE, STORE_DLQ } from "./d1-outage";

beforeEach(async () => {
  await env.DB.prepare("delete from channels").run();
});

describe("the storing queue's dead letters", () => {
  it("wrangler.toml gives the storing queue a dead-letter queue that this worker consumes and can send to", () => {
    const consumers = wranglerToml.split("[[queues.consumers]]").slice(1);
    const storing = consumers.find((b) => /^queue = "tyk-webhook-events-to-store"$/m.test(b));
    expect(storing).toMatch(new RegExp(`^dead_letter_queue = "${STORE_DLQ}"$`, "m"));
    expect(consumers.some((b) => new RegExp(`^queue = "${STORE_DLQ}"$`, "m").test(b))).toBe(true);
    expect(wranglerToml).toMatch(new RegExp(`binding = "STORING_DEAD_LETTERS"\\nqueue = "${STORE_DLQ}"`));
  });

  it("stores a dead-lettered parked event once D1 takes it, and queues its deliveries", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    const deliveries = recordingQueue();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { acked } = await runQueue(STORE_DLQ, [parked], { DELIVERIES: deliveries });
    expect(acked).toEqual(["msg-0"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);
    expect(deliveries.ids).toHaveLength(1);
  });

  it("keeps one D1 still cannot take: back in its queue an hour later, with an error each time, never dropped", async () => {
    const parked = await parkedMessage(largeBody());
    const deadLetters = parkedQueue();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const first = await runQueue(STORE_DLQ, [parked], { DB: down(), STORING_DEAD_LETTERS: deadLetters });
    expect(first.acked).toEqual(["msg-0"]);
    expect(deadLetters.sent).toEqual([{ body: { ...parked, deadLettered: 1 }, delaySeconds: DEAD_LETTER_RETRY_SECONDS }]);
    expect(errors.mock.calls.flat().join("\n")).toContain(`"eventId":"${parked.id}"`);
    // Its bytes are still kept, for the next hour's try.
    const keeper = env.PARKED_BODIES.get(env.PARKED_BODIES.idFromName(parked.id));
    expect(await keeper.read()).not.toBeNull();

    // The queue refuses too: retried by Queues rather than dropped.
    const second = await runQueue(STORE_DLQ, [deadLetters.sent[0]!.body], { DB: down(), STORING_DEAD_LETTERS: parkedQueue(true) });
    expect(second.acked).toEqual([]);
    expect(second.retried).toEqual(["msg-0"]);
    expect(second.delays).toEqual([DEAD_LETTER_RETRY_SECONDS]);

    // D1 back: stored under its id, from the kept bytes.
    await runQueue(STORE_DLQ, [deadLetters.sent[0]!.body], { DELIVERIES: recordingQueue() });
    expect(await count("events", "id = ?", parked.id)).toBe(1);
  });

  it("retries a storing message that is not an event on its own, and its dead letter is logged and dropped", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const stored = await runQueue(STORE, [null, parked], { DELIVERIES: recordingQueue() });
    // Only the bad message spends a retry; the event beside it is stored.
    expect(stored.retriedBatch.retry).toBe(false);
    expect(stored.retried).toEqual(["msg-0"]);
    expect(stored.acked).toEqual(["msg-1"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);

    const dropped = await runQueue(STORE_DLQ, [{ junk: true }]);
    expect(dropped.acked).toEqual(["msg-0"]);
    expect(errors.mock.calls.flat().join("\n")).toContain("not a parked event");
  });

  it("stores parked events even while another var is bad (a 503 for everything else)", async () => {
    await createChannel({ URL: target("ok"), Events: ["UserRegistered"] });
    const parked = await parkedMessage();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { acked, retriedBatch } = await runQueue(STORE, [parked], { DELIVERIES: recordingQueue(), RETRY_SCHEDULE: "abc" });
    expect(retriedBatch.retry).toBe(false);
    expect(acked).toEqual(["msg-0"]);
    expect(await count("events", "id = ?", parked.id)).toBe(1);
  });
});

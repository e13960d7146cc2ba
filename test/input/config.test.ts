/** The deployment's vars: a bad one answers every request but /healthz 503 naming it, the defaults, the queues' names. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

import { recordingQueue } from "../doubles";
import {
  ADMIN,
  consume,
  createChannel,
  delivery,
  errorsOf,
  INTAKE,
  makeDelivery,
  receivedAt,
  request,
  runQueue,
  target,
  uniqueUserRegistered,
} from "../helpers";

describe("configuration", () => {
  it.each([
    ["RETRY_SCHEDULE", "abc", "RETRY_SCHEDULE: must be whole seconds"],
    ["RETRY_SCHEDULE", "", "RETRY_SCHEDULE: has an empty item"],
    ["RETRY_SCHEDULE", "5,,10", "RETRY_SCHEDULE: has an empty item"],
    ["RETRY_SCHEDULE", "5,-1", "RETRY_SCHEDULE: must be whole seconds"],
    ["RETENTION_DAYS", "thirty", "RETENTION_DAYS: must be a whole number of days"],
    ["RETENTION_DAYS", "0", "RETENTION_DAYS: must be at least 1"],
    ["ALLOW_PRIVATE_TARGETS", "yes", 'ALLOW_PRIVATE_TARGETS: must be "true" or "false"'],
    ["LOST_AFTER_SECONDS", "120", "LOST_AFTER_SECONDS: needs at least 2 item(s)"],
  ])("a bad %s (%j) answers every request 503, naming it; /healthz, which reads no var, stays 200", async (name, value, error) => {
    const health = await request("/healthz", {}, { [name]: value });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    for (const [path, init] of [
      ["/portal-api/webhooks", { headers: ADMIN }],
      ["/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered() }],
    ] as const) {
      const res = await request(path, init, { DELIVERIES: recordingQueue(), [name]: value });
      expect(res.status, path).toBe(503);
      expect(await errorsOf(res)).toEqual([error]);
    }
  });

  it("consumes the queues it is configured with, by exact name, and refuses any other", async () => {
    await expect(runQueue("tyk-webhook-deliveries-dlq-old", [{ deliveryId: "x" }])).rejects.toThrow(
      /queue tyk-webhook-deliveries-dlq-old: not tyk-webhook-deliveries, tyk-webhook-deliveries-dlq or tyk-webhook-events-to-store/,
    );
    // A deployment's own names, through its vars.
    const channel = await createChannel({ URL: target() });
    const { deliveryId } = await makeDelivery(channel.ID);
    // An attempt of this run was recorded: the dead letter ends it failed.
    await env.DB.prepare("update deliveries set attempt_count = 1 where id = ?").bind(deliveryId).run();
    const renamed = { DELIVERY_QUEUE: "staging-deliveries", DEAD_LETTER_QUEUE: "staging-deliveries-dlq" };
    await runQueue("staging-deliveries-dlq", [{ deliveryId, channelId: channel.ID, generation: 0 }], renamed);
    expect((await delivery(deliveryId)).status).toBe("failed");
  });

  it("uses the defaults when a var is not set", async () => {
    const { config } = await import("../../src/core/env");
    const parsed = config({ DB: env.DB } as never);
    expect(parsed).toEqual({
      allowPrivateTargets: false,
      retrySchedule: [5, 300, 1800, 7200, 18000, 36000, 36000],
      retentionDays: 30,
      lostAfter: { pendingMs: 120_000, retryingMs: 300_000 },
      queues: {
        deliveries: "tyk-webhook-deliveries",
        deadLetters: "tyk-webhook-deliveries-dlq",
        store: "tyk-webhook-events-to-store",
        storeDeadLetters: "tyk-webhook-events-to-store-dlq",
      },
    });
  });

  it("the consumer holds its batch back instead of sending on a bad schedule", async () => {
    const url = target();
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId], { RETRY_SCHEDULE: "abc" });
    expect(result.retriedBatch.retry).toBe(true);
    expect(result.acked).toEqual([]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect((await delivery(deliveryId)).status).toBe("pending");
  });
});

/** RETRY_SCHEDULE against the deliveries queue's max_retries: how many retries a schedule spends (12 h hops counted), and the ones refused. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { config } from "../../src/core/env";
import { ConfigError } from "../../src/core/errors";
import { MAX_QUEUE_DELAY_SECONDS } from "../../src/delivery/decide";
import { DELIVERY_QUEUE_MAX_RETRIES, QUEUE_MAX_DELAY_SECONDS, retriesForSchedule, retriesForWait, SCHEDULE_RETRY_BUDGET } from "../../src/retry/budget";
import wranglerToml from "../../wrangler.toml?raw";
import { consume, createChannel, delivery, makeDelivery, target } from "../helpers";

/** The problems config() reports for RETRY_SCHEDULE = `schedule`, or [] if it takes it. */
function problemsWith(schedule: string): string[] {
  try {
    config({ ...env, RETRY_SCHEDULE: schedule });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
}

/** The max_retries wrangler.toml gives the consumer of `queue`. */
function maxRetriesOf(queue: string): number | undefined {
  const block = wranglerToml
    .split("[[queues.consumers]]")
    .slice(1)
    .find((b) => new RegExp(`^queue = "${queue}"$`, "m").test(b));
  const found = block?.match(/^max_retries = (\d+)$/m);
  return found ? Number(found[1]) : undefined;
}

describe("RETRY_SCHEDULE and the queue's retries agree", () => {
  it("counts each wait's 12 h hops, with its jitter and a Retry-After of up to 24 h", () => {
    expect(QUEUE_MAX_DELAY_SECONDS).toBe(MAX_QUEUE_DELAY_SECONDS);
    expect([5, 36000, 43200, 72000, 86400, 604800].map(retriesForWait)).toEqual([2, 2, 2, 2, 3, 17]);
    expect(retriesForSchedule([5, 300, 1800, 7200, 18000, 36000, 36000])).toBe(14);
  });

  it("the deliveries consumer's max_retries in wrangler.toml is the one the budget is drawn from", () => {
    expect(maxRetriesOf("tyk-webhook-deliveries")).toBe(DELIVERY_QUEUE_MAX_RETRIES);
    expect(DELIVERY_QUEUE_MAX_RETRIES).toBeLessThanOrEqual(100);
  });

  it("takes the default, 40 short waits, and four waits of 7 days", () => {
    expect(problemsWith("5,300,1800,7200,18000,36000,36000")).toEqual([]);
    expect(problemsWith(Array(40).fill(5).join(","))).toEqual([]);
    expect(problemsWith(Array(4).fill(604800).join(","))).toEqual([]);
  });

  it.each([
    ["41 waits", Array(41).fill(5).join(","), "RETRY_SCHEDULE: takes at most 40 items"],
    ["five waits of 7 days (85 retries)", Array(5).fill(604800).join(","), /^RETRY_SCHEDULE: takes up to 85 queue retries, more than the 80 /],
    ["thirty waits of a day (90 retries)", Array(30).fill(86400).join(","), /^RETRY_SCHEDULE: takes up to 90 queue retries/],
    ["a wait over 7 days", "604801", "RETRY_SCHEDULE: must be at most 604800 (7 days)"],
  ])("refuses %s, naming the var", (_, schedule, problem) => {
    const problems = problemsWith(schedule);
    expect(problems).toHaveLength(1);
    if (typeof problem === "string") expect(problems[0]).toBe(problem);
    else expect(problems[0]).toMatch(problem);
  });

  it("a long wait costs the consumer the retries counted for it: one per 12 h hop, then the attempt", async () => {
    // One wait of 2 days: at most 2.4 days with jitter, so at most 5 retries of 12 h.
    const schedule = { RETRY_SCHEDULE: "172800" };
    const channel = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(channel.ID);
    let retries = 0;
    let first = await consume([deliveryId], schedule);
    expect(first.delays).toEqual([MAX_QUEUE_DELAY_SECONDS]);
    retries++;
    // Each hop: the queue brings the message back 12 h later, which is when it is next read.
    for (;;) {
      await env.DB.prepare("update deliveries set next_attempt_at = next_attempt_at - ? * 1000 where id = ?").bind(MAX_QUEUE_DELAY_SECONDS, deliveryId).run();
      const before = (await delivery(deliveryId)).attempt_count;
      first = await consume([deliveryId], schedule);
      if ((await delivery(deliveryId)).attempt_count > before) break;
      expect(first.retried).toHaveLength(1);
      retries++;
    }
    expect((await delivery(deliveryId)).status).toBe("failed");
    expect(retries).toBeGreaterThanOrEqual(4);
    expect(retries).toBeLessThanOrEqual(retriesForWait(172800));
  });
});

describe("the retry budget", () => {
  it("leaves room for crashes below Queues' maximum", () => {
    expect(SCHEDULE_RETRY_BUDGET).toBe(80);
  });
});

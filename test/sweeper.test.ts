import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { timeOrderedId } from "../src/db/ids";
import { RECLAIM_SLICE, sweep } from "../src/sweeper/sweep";
import { recordingQueue } from "./doubles";
import { count, createChannel, target } from "./helpers";

/*
 * The sweeper's limits: how much of a lost backlog one run re-sends, and that disabling a
 * channel and raising Dispatcher.WebhookDisabled never happen one without the other.
 */

const DAY = 24 * 60 * 60 * 1000;

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

/** The real D1, but every batch holding a statement that contains `text` fails first (nothing written). */
function failingBatchesWith(text: string, how: "before" | "after" = "before") {
  const sqlOf = new WeakMap<object, string>();
  let failed = 0;
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          const statement = target.prepare(query);
          const bind = statement.bind.bind(statement);
          statement.bind = (...args: unknown[]) => {
            const bound = bind(...args);
            sqlOf.set(bound, query);
            return bound;
          };
          sqlOf.set(statement, query);
          return statement;
        };
      }
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (!statements.some((s) => sqlOf.get(s)?.includes(text))) return target.batch(statements);
          failed++;
          // "before": a failure D1 does not retry; "after": committed, then reported lost (retried).
          if (how === "before") throw new Error("D1_ERROR: no such table: simulated failure");
          await target.batch(statements);
          throw new Error("D1_ERROR: Network connection lost.");
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, failed: () => failed };
}

beforeEach(async () => {
  await env.DB.prepare("delete from channels").run();
  await env.DB.prepare("delete from deliveries").run();
});

describe("the sweeper re-sends a lost backlog", () => {
  it("re-sends 2,500 lost deliveries in one run, in slices, at most 100 to a sendBatch", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await lostBacklog(channel.ID, 2500);
    const queue = recordingQueue();
    const { reclaimed } = await sweep({ ...env, DELIVERIES: queue as never });
    expect(reclaimed).toHaveLength(2500);
    expect(new Set(queue.ids).size).toBe(2500);
    expect(Math.max(...queue.sent.map((call) => call.length))).toBeLessThanOrEqual(100);
    // Every one in its new generation, due now: none left for the next run.
    expect(await count("deliveries", "generation = 1 and channel_id = ?", channel.ID)).toBe(2500);
    expect((await sweep({ ...env, DELIVERIES: recordingQueue() as never })).reclaimed).toEqual([]);
  });

  it("stops at the first slice the queue refuses, leaving the rest for a later run", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await lostBacklog(channel.ID, 2500);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { reclaimed } = await sweep({ ...env, DELIVERIES: recordingQueue(true) as never });
    expect(reclaimed).toHaveLength(RECLAIM_SLICE);
    expect(await count("deliveries", "generation = 0 and channel_id = ?", channel.ID)).toBe(2500 - RECLAIM_SLICE);
  });
});

describe("disabling a channel failing for 5 days raises Dispatcher.WebhookDisabled in the same batch", () => {
  async function failingForSixDays() {
    const opsUrl = target("ok");
    const ops = await createChannel({ URL: opsUrl, Events: ["Dispatcher.WebhookDisabled"] });
    const failing = await createChannel({ Name: "Flaky", URL: target("status/500") });
    await env.DB.prepare("update channels set failing_since = ? where id = ?")
      .bind(Date.now() - 6 * DAY, failing.ID)
      .run();
    return { ops, failing };
  }
  const enabled = async (id: string) => (await env.DB.prepare("select enabled from channels where id = ?").bind(id).first<{ enabled: number }>())!.enabled;
  const raisedFor = async (id: string) =>
    (await env.DB.prepare("select body from events where type = 'Dispatcher.WebhookDisabled'").all<{ body: string }>()).results
      .map((r) => JSON.parse(r.body).Message)
      .filter((m) => m.WebhookID === id);

  it("a failure of the batch leaves the channel enabled and raises nothing; the next sweep does both", async () => {
    const { ops, failing } = await failingForSixDays();
    const faulty = failingBatchesWith("insert into events");
    vi.spyOn(console, "error").mockImplementation(() => {});
    const during = await sweep({ ...env, DB: faulty.db, DELIVERIES: recordingQueue() as never });
    expect(faulty.failed()).toBe(1);
    expect(during.disabledChannels).toEqual([]);
    // Not half done: still enabled, so the next sweep sees it again.
    expect(await enabled(failing.ID)).toBe(1);
    expect(await raisedFor(failing.ID)).toEqual([]);

    const queue = recordingQueue();
    const after = await sweep({ ...env, DELIVERIES: queue as never });
    expect(after.disabledChannels.map((c) => c.id)).toEqual([failing.ID]);
    expect(await enabled(failing.ID)).toBe(0);
    const [message, ...more] = await raisedFor(failing.ID);
    expect(more).toEqual([]);
    const { disabled_reason } = (await env.DB.prepare("select disabled_reason from channels where id = ?")
      .bind(failing.ID)
      .first<{ disabled_reason: string }>())!;
    expect(message).toEqual({ WebhookID: failing.ID, WebhookName: "Flaky", Reason: disabled_reason });
    expect(disabled_reason).toMatch(/^every delivery failed for 5 days \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
    // The ops channel's delivery of it is queued.
    const opsDelivery = await env.DB.prepare("select id from deliveries where channel_id = ?").bind(ops.ID).first<{ id: string }>();
    expect(queue.ids).toEqual([opsDelivery!.id]);
  });

  it("a batch that committed but reported lost is tried again without raising twice", async () => {
    const { ops, failing } = await failingForSixDays();
    const faulty = failingBatchesWith("insert into events", "after");
    await sweep({ ...env, DB: faulty.db, DELIVERIES: recordingQueue() as never });
    expect(faulty.failed()).toBeGreaterThanOrEqual(1);
    expect(await enabled(failing.ID)).toBe(0);
    expect(await raisedFor(failing.ID)).toHaveLength(1);
    expect(await count("deliveries", "channel_id = ?", ops.ID)).toBe(1);
  });
});

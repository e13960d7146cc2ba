/**
 * Channels failing for 5 days: a failure streak starts and ends with the deliveries'
 * outcomes, the sweeper disables a channel whose streak lasted 5 days, and disabling it
 * and raising Dispatcher.WebhookDisabled never happen one without the other.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { recordingQueue } from "../doubles";
import { api, consume, count, createChannel, makeDelivery, makeDue, runSweep, target } from "../helpers";

const DAY = 24 * 60 * 60 * 1000;

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

describe("the sweeper disables a channel failing for 5 days", () => {
  it("disables a channel whose deliveries have all failed for 5 days", async () => {
    const failing = await createChannel({ URL: target("status/500") });
    const { deliveryId } = await makeDelivery(failing.ID);
    await consume([deliveryId]);
    expect((await env.DB.prepare("select failing_since from channels where id = ?").bind(failing.ID).first<any>()).failing_since).toBeGreaterThan(0);
    const healthy = await createChannel();

    await env.DB.prepare("update channels set failing_since = ? where id = ?")
      .bind(Date.now() - 5 * 86400_000 - 1000, failing.ID)
      .run();
    const { disabledChannels } = await runSweep({ DELIVERIES: recordingQueue() });
    expect(disabledChannels.map((c) => c.id)).toContain(failing.ID);
    expect(disabledChannels.map((c) => c.id)).not.toContain(healthy.ID);
    const after = await (await api("GET", `/portal-api/webhooks/${failing.ID}`)).json<any>();
    expect(after.Enabled).toBe(false);
    expect(after.DisabledReason).toMatch(/^every delivery failed for 5 days/);
  });

  it("a success ends a failure streak", async () => {
    const channel = await createChannel({ URL: target("flaky/1") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const failingSince = async () => (await env.DB.prepare("select failing_since from channels where id = ?").bind(channel.ID).first<any>()).failing_since;
    await consume([deliveryId]);
    expect(await failingSince()).toBeGreaterThan(0);
    await makeDue(deliveryId);
    await consume([deliveryId]);
    expect(await failingSince()).toBeNull();
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
    const during = await runSweep({ DB: faulty.db, DELIVERIES: recordingQueue() });
    expect(faulty.failed()).toBe(1);
    expect(during.disabledChannels).toEqual([]);
    // Not half done: still enabled, so the next sweep sees it again.
    expect(await enabled(failing.ID)).toBe(1);
    expect(await raisedFor(failing.ID)).toEqual([]);

    const queue = recordingQueue();
    const after = await runSweep({ DELIVERIES: queue });
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
    await runSweep({ DB: faulty.db, DELIVERIES: recordingQueue() });
    expect(faulty.failed()).toBeGreaterThanOrEqual(1);
    expect(await enabled(failing.ID)).toBe(0);
    expect(await raisedFor(failing.ID)).toHaveLength(1);
    expect(await count("deliveries", "channel_id = ?", ops.ID)).toBe(1);
  });
});

/** GET /portal-api/stats: counts by status, success rate, latency and the last error, per channel and over time. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { settle } from "../delivery/delivering";
import { recordingQueue } from "../doubles";
import { ADMIN, api, createChannel, makeDelivery, target } from "../helpers";

const HOUR = 60 * 60 * 1000;

async function stats(query = "") {
  const res = await api("GET", `/portal-api/stats${query}`);
  expect(res.status).toBe(200);
  return res.json<any>();
}

/** A channel whose deliveries end 7 succeeded and 3 failed, all created `ago` ms ago. */
async function sevenAndThree(ago = 0) {
  const ok = target("ok");
  const channel = await createChannel({ URL: ok });
  const made = [];
  for (let i = 0; i < 10; i++) {
    made.push(await makeDelivery(channel.ID, undefined, Date.now() - ago));
  }
  for (const d of made.slice(0, 7)) expect(await settle(d.deliveryId)).toBe("succeeded");
  await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: target("status/500") });
  for (const d of made.slice(7)) expect(await settle(d.deliveryId)).toBe("failed");
  return { channel, made };
}

describe("GET /portal-api/stats", () => {
  it("counts 7 succeeded and 3 failed as a success rate of 0.7, with latency and the last error", async () => {
    const { channel } = await sevenAndThree();
    const body = await stats(`?webhook_id=${channel.ID}`);
    expect(body.Counts).toEqual({ pending: 0, retrying: 0, held: 0, succeeded: 7, failed: 3, cancelled: 0 });
    expect(body.SuccessRate).toBe(0.7);
    expect(body.LatencyMs.P50).toBeGreaterThanOrEqual(0);
    expect(body.LatencyMs.P95).toBeGreaterThanOrEqual(body.LatencyMs.P50);
    expect(body.Webhooks).toHaveLength(1);
    const row = body.Webhooks[0];
    expect(row).toMatchObject({ ID: channel.ID, Name: "CRM", SuccessRate: 0.7, LastError: "target answered 500" });
    expect(Date.now() - Date.parse(row.LastFailureAt)).toBeLessThan(60_000);
    // The default window is the last 24 hours, in at most 60 buckets that add up.
    expect(Date.parse(body.Until) - Date.parse(body.Since)).toBe(24 * HOUR);
    expect(body.Series.length).toBeLessThanOrEqual(60);
    const summed = body.Series.reduce((n: number, b: any) => n + b.Counts.succeeded, 0);
    expect(summed).toBe(7);
    // Beside the contract: each channel's [succeeded, failed] per bucket, for a sparkline.
    expect(row.Trend).toHaveLength(body.Series.length);
    expect(row.Trend.reduce((n: number[], [ok, bad]: number[]) => [n[0]! + ok!, n[1]! + bad!], [0, 0])).toEqual([7, 3]);
  });

  it("reads whole hours from the hourly counts and gives the same answer", async () => {
    const { channel } = await sevenAndThree(3 * HOUR);
    const rows = await env.DB.prepare("select sum(succeeded) as s, sum(failed) as f from delivery_counts where channel_id = ?").bind(channel.ID).first<any>();
    expect(rows).toEqual({ s: 7, f: 3 });
    const since = new Date(Date.now() - 6 * HOUR).toISOString();
    const body = await stats(`?webhook_id=${channel.ID}&since=${since}`);
    expect(body.Counts.succeeded).toBe(7);
    expect(body.Counts.failed).toBe(3);
    expect(body.SuccessRate).toBe(0.7);
    expect(body.LatencyMs.P50).not.toBeNull();
    expect(body.Webhooks[0].LastError).toBe("target answered 500");
    // Out of a window that ended before they were made.
    const before = await stats(`?webhook_id=${channel.ID}&since=${since}&until=${new Date(Date.now() - 4 * HOUR).toISOString()}`);
    expect(before.Counts.succeeded).toBe(0);
    expect(before.SuccessRate).toBeNull();
  });

  it("counts live deliveries, and moves a redelivered one out of failed", async () => {
    const { channel, made } = await sevenAndThree();
    await makeDelivery(channel.ID); // pending
    const failedId = made[9]!.deliveryId;
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: target("ok") });
    // Its queue message only recorded: the count is read before any consumer can take it.
    expect((await api("POST", `/portal-api/deliveries/${failedId}/redeliver`, undefined, ADMIN, { DELIVERIES: recordingQueue() })).status).toBe(202);
    const body = await stats(`?webhook_id=${channel.ID}`);
    expect(body.Counts).toEqual({ pending: 2, retrying: 0, held: 0, succeeded: 7, failed: 2, cancelled: 0 });
    expect(await settle(failedId)).toBe("succeeded");
    expect((await stats(`?webhook_id=${channel.ID}`)).Counts.succeeded).toBe(8);
  });

  it("counts cancelled deliveries when a channel is deleted, and keeps them in the totals", async () => {
    const channel = await createChannel({ URL: target("ok") });
    await makeDelivery(channel.ID);
    await makeDelivery(channel.ID);
    await api("DELETE", `/portal-api/webhooks/${channel.ID}`);
    const rows = await env.DB.prepare("select sum(cancelled) as n from delivery_counts where channel_id = ?").bind(channel.ID).first<any>();
    expect(rows.n).toBe(2);
    const all = await stats();
    const deleted = all.Webhooks.find((w: any) => w.ID === channel.ID);
    expect(deleted).toMatchObject({ Name: "CRM", Deleted: true, Counts: { cancelled: 2 } });
  });

  it("refuses a window that ends before it starts, and an unknown webhook", async () => {
    const res = await api("GET", "/portal-api/stats?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z");
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["since: must be before until"]);
    expect((await api("GET", "/portal-api/stats?webhook_id=nope")).status).toBe(404);
    expect((await api("GET", "/portal-api/stats?since=yesterday")).status).toBe(422);
  });
});

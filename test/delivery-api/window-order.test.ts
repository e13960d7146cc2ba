/**
 * A window whose `since` is not before its `until` is a 422 on every deliveries route that
 * takes both (`since: must be before until`, as stats and the events search answer, in
 * the route's own spelling of the fields), never an empty list or "0 requeued".
 */
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { ADMIN, api, delivery, errorsOf } from "../helpers";
import { failedDelivery } from "../input/failed-delivery";

const LATE = "2030-01-01T00:00:00Z";
const EARLY = "2029-01-01T00:00:00Z";

describe("since after until", () => {
  it("GET /portal-api/deliveries refuses it, listed or searched, as stats does", async () => {
    const { channel } = await failedDelivery();
    for (const extra of ["", "&q=ada", `&webhook_id=${channel.ID}`, "&status=failed&per_page=5"]) {
      const res = await api("GET", `/portal-api/deliveries?since=${LATE}&until=${EARLY}${extra}`);
      expect([res.status, await errorsOf(res)], extra).toEqual([422, ["since: must be before until"]]);
    }
    const stats = await api("GET", `/portal-api/stats?since=${LATE}&until=${EARLY}`);
    expect([stats.status, await errorsOf(stats)]).toEqual([422, ["since: must be before until"]]);
    // An empty window too: [t, t) holds nothing.
    const empty = await api("GET", `/portal-api/deliveries?since=${EARLY}&until=${EARLY}`);
    expect([empty.status, await errorsOf(empty)]).toEqual([422, ["since: must be before until"]]);
  });

  it("a bad bound names its own problem, not the order", async () => {
    const res = await api("GET", `/portal-api/deliveries?since=2030-02-31T00:00:00Z&until=${EARLY}`);
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual([expect.stringMatching(/^since: must be a date that exists/)]);
  });

  it("POST /portal-api/deliveries/recover refuses it as Since and Until, with DryRun or without, and changes nothing", async () => {
    const { deliveryId, row } = await failedDelivery();
    const queue = recordingQueue();
    for (const DryRun of [true, false]) {
      const res = await api("POST", "/portal-api/deliveries/recover", { Since: LATE, Until: EARLY, DryRun }, ADMIN, { DELIVERIES: queue });
      expect([res.status, await errorsOf(res)], `DryRun ${DryRun}`).toEqual([422, ["Since: must be before Until"]]);
    }
    expect(queue.ids).toEqual([]);
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("bounds in order still work", async () => {
    const { channel, deliveryId } = await failedDelivery();
    const listed = await api("GET", `/portal-api/deliveries?since=2024-01-01T00:00:00Z&until=${LATE}&webhook_id=${channel.ID}`);
    expect((await listed.json<any[]>()).map((d) => d.ID)).toEqual([deliveryId]);
    const dry = await api("POST", "/portal-api/deliveries/recover", { Since: "2024-01-01T00:00:00Z", Until: LATE, WebhookID: channel.ID, DryRun: true });
    expect([dry.status, await dry.json()]).toEqual([200, { WouldRequeue: 1 }]);
  });
});

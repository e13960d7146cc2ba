/**
 * A webhook (or event) that a deliveries route names but that is not known is a 404, as
 * `GET /portal-api/stats?webhook_id=` answers: never an empty list or "0 requeued" that
 * reads as "nothing failed".
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { countingD1, recordingQueue } from "../doubles";
import { ADMIN, api, createChannel, delivery, errorsOf } from "../helpers";
import { failedDelivery } from "../input/failed-delivery";

const SINCE = "2024-01-01T00:00:00Z";

describe("GET /portal-api/deliveries naming what is not known", () => {
  it("an unknown webhook_id is a 404, as stats answers; a malformed one too", async () => {
    for (const id of [crypto.randomUUID(), "nope"]) {
      const list = await api("GET", `/portal-api/deliveries?webhook_id=${id}`);
      const stats = await api("GET", `/portal-api/stats?webhook_id=${id}`);
      expect([list.status, await errorsOf(list)], id).toEqual([404, ["Webhook: not found"]]);
      expect([stats.status, await errorsOf(stats)], id).toEqual([404, ["Webhook: not found"]]);
    }
    // With the other filters and a payload search too.
    const searched = await api("GET", `/portal-api/deliveries?webhook_id=${crypto.randomUUID()}&status=failed&q=ada`);
    expect([searched.status, await errorsOf(searched)]).toEqual([404, ["Webhook: not found"]]);
  });

  it("an unknown event_id is a 404, as GET /portal-api/events/{id} answers", async () => {
    const res = await api("GET", `/portal-api/deliveries?event_id=${timeOrderedId(Date.now())}`);
    expect([res.status, await errorsOf(res)]).toEqual([404, ["Event: not found"]]);
  });

  it("a known webhook with nothing to list is still 200 [], and a deleted one's deliveries are still listed", async () => {
    const quiet = await createChannel();
    expect(await (await api("GET", `/portal-api/deliveries?webhook_id=${quiet.ID}&status=failed`)).json()).toEqual([]);
    // A page past the end of a known webhook's list is empty, not a 404.
    const { channel, deliveryId } = await failedDelivery();
    expect(await (await api("GET", `/portal-api/deliveries?webhook_id=${channel.ID}&page=2`)).json()).toEqual([]);
    // Deleted: its deliveries are kept, and listed by its id.
    expect((await api("DELETE", `/portal-api/webhooks/${channel.ID}`)).status).toBe(200);
    const listed = await api("GET", `/portal-api/deliveries?webhook_id=${channel.ID}`);
    expect(listed.status).toBe(200);
    expect((await listed.json<any[]>()).map((d) => [d.ID, d.WebhookDeleted])).toEqual([[deliveryId, true]]);
    expect(await (await api("GET", `/portal-api/deliveries?webhook_id=${channel.ID}&status=pending`)).json()).toEqual([]);
    const { eventId } = (await env.DB.prepare("select event_id as eventId from deliveries where id = ?").bind(deliveryId).first<{ eventId: string }>())!;
    expect((await (await api("GET", `/portal-api/deliveries?event_id=${eventId}`)).json<any[]>()).map((d) => d.ID)).toEqual([deliveryId]);
  });

  it("looks the webhook up in the same D1 round trip as the page", async () => {
    const { channel } = await failedDelivery();
    for (const id of [channel.ID, crypto.randomUUID()]) {
      const { db, counter } = countingD1(env.DB);
      const res = await api("GET", `/portal-api/deliveries?webhook_id=${id}&status=pending`, undefined, ADMIN, { DB: db });
      expect(res.status).toBe(id === channel.ID ? 200 : 404);
      expect(counter.roundTrips, id).toBe(1);
    }
  });
});

describe("POST /portal-api/deliveries/recover naming what is not known", () => {
  it("an unknown WebhookID is a 404, with DryRun or without, and nothing is queued or changed", async () => {
    const { deliveryId, row } = await failedDelivery();
    const queue = recordingQueue();
    for (const DryRun of [true, false]) {
      const res = await api("POST", "/portal-api/deliveries/recover", { Since: SINCE, WebhookID: crypto.randomUUID(), DryRun }, ADMIN, { DELIVERIES: queue });
      expect([res.status, await errorsOf(res)], `DryRun ${DryRun}`).toEqual([404, ["Webhook: not found"]]);
    }
    expect(queue.ids).toEqual([]);
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("a deleted webhook cannot be recovered (as POST /webhooks/{id}/recover answers); an existing one can", async () => {
    const { channel, deliveryId } = await failedDelivery();
    const dry = await api("POST", "/portal-api/deliveries/recover", { Since: SINCE, WebhookID: channel.ID, DryRun: true });
    expect([dry.status, await dry.json()]).toEqual([200, { WouldRequeue: 1 }]);
    expect((await api("DELETE", `/portal-api/webhooks/${channel.ID}`)).status).toBe(200);
    const across = await api("POST", "/portal-api/deliveries/recover", { Since: SINCE, WebhookID: channel.ID, DryRun: true });
    expect([across.status, await errorsOf(across)]).toEqual([404, ["Webhook: not found"]]);
    const own = await api("POST", `/portal-api/webhooks/${channel.ID}/recover`, { Since: SINCE, DryRun: true });
    expect([own.status, await errorsOf(own)]).toEqual([404, ["Webhook: not found"]]);
    expect((await delivery(deliveryId)).status).toBe("failed");
  });
});

/** Every channel's deliveries in one list: GET /portal-api/deliveries, filtered and paged. */
import { describe, expect, it } from "vitest";
import { settle } from "../delivery/delivering";
import { api, createChannel, makeDelivery, target } from "../helpers";

const HOUR = 60 * 60 * 1000;

describe("GET /portal-api/deliveries", () => {
  it("lists every channel's deliveries newest first, filtered and paged", async () => {
    const a = await createChannel({ URL: target("ok"), Events: ["UserRegistered", "OrganisationRegistered"] });
    const b = await createChannel({ URL: target("status/500") });
    const first = await makeDelivery(a.ID);
    const second = await makeDelivery(b.ID);
    await settle(second.deliveryId);
    const third = await makeDelivery(a.ID);

    const newest = await (await api("GET", "/portal-api/deliveries?per_page=3")).json<any[]>();
    expect(newest.map((d) => d.ID)).toEqual([third.deliveryId, second.deliveryId, first.deliveryId]);
    const page2 = await (await api("GET", "/portal-api/deliveries?per_page=1&page=2")).json<any[]>();
    expect(page2.map((d) => d.ID)).toEqual([second.deliveryId]);

    const failed = await (await api("GET", `/portal-api/deliveries?status=failed&webhook_id=${b.ID}`)).json<any[]>();
    expect(failed.map((d) => d.ID)).toEqual([second.deliveryId]);
    expect(failed[0]).toMatchObject({ Status: "failed", LastError: "target answered 500", AttemptCount: 2, WebhookID: b.ID });
    const ofA = await (await api("GET", `/portal-api/deliveries?webhook_id=${a.ID}`)).json<any[]>();
    expect(ofA.map((d) => d.ID)).toEqual([third.deliveryId, first.deliveryId]);
    const byEvent = await (await api("GET", `/portal-api/deliveries?event_id=${first.eventId}`)).json<any[]>();
    expect(byEvent.map((d) => d.ID)).toEqual([first.deliveryId]);
    const byType = await (await api("GET", `/portal-api/deliveries?event_type=OrganisationRegistered&webhook_id=${a.ID}`)).json<any[]>();
    expect(byType).toEqual([]);
    const future = new Date(Date.now() + HOUR).toISOString();
    expect(await (await api("GET", `/portal-api/deliveries?since=${future}`)).json()).toEqual([]);
    // Beside the contract's fields, what a list shows: the channel's name (kept after a
    // delete), whether a redeliver can work, and the last attempt.
    expect(failed[0]).toMatchObject({ WebhookName: "CRM", WebhookDeleted: false, CanRedeliver: true, LastDurationMs: expect.any(Number) });
    expect(Date.now() - Date.parse(failed[0].LastAttemptAt)).toBeLessThan(60_000);
    await api("PATCH", `/portal-api/webhooks/${b.ID}`, { Name: "Billing", Enabled: false });
    expect((await (await api("GET", `/portal-api/deliveries?webhook_id=${b.ID}`)).json<any[]>())[0]).toMatchObject({
      WebhookName: "Billing",
      CanRedeliver: false,
    });
    await api("DELETE", `/portal-api/webhooks/${b.ID}`);
    const gone = await (await api("GET", `/portal-api/deliveries?webhook_id=${b.ID}`)).json<any[]>();
    expect(gone[0]).toMatchObject({ ID: second.deliveryId, WebhookName: "Billing", WebhookDeleted: true, CanRedeliver: false });
    const res = await api("GET", "/portal-api/deliveries?status=lost");
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^status: must be one of/);
  });
});

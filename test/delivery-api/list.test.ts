/** A channel's deliveries, newest first and filtered by status, and one delivery with its attempts. */
import { describe, expect, it } from "vitest";
import { api, consume, createChannel, makeDelivery, target } from "../helpers";

describe("GET /portal-api/webhooks/{id}/deliveries and GET /portal-api/deliveries/{id}", () => {
  it("lists a channel's deliveries newest first, filtered by status, and shows one with its attempts", async () => {
    const channel = await createChannel({ URL: target("flaky/1") });
    const first = await makeDelivery(channel.ID);
    await new Promise((r) => setTimeout(r, 5));
    const second = await makeDelivery(channel.ID);
    // One at a time: the target fails only its first request.
    await consume([first.deliveryId]);
    await consume([second.deliveryId]);

    const all = await (await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries`)).json<any[]>();
    expect(all.map((d) => d.ID)).toEqual([second.deliveryId, first.deliveryId]);
    expect(all[0]).toMatchObject({
      EventID: second.eventId,
      WebhookID: channel.ID,
      EventType: "UserRegistered",
      Status: "succeeded",
      AttemptCount: 1,
      LastStatusCode: 200,
    });

    const retrying = await (await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?status=retrying`)).json<any[]>();
    expect(retrying.map((d) => d.ID)).toEqual([first.deliveryId]);
    expect(retrying[0].NextAttemptAt).toMatch(/Z$/);

    const bad = await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?status=lost`);
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^status: /);

    const one = await (await api("GET", `/portal-api/deliveries/${first.deliveryId}`)).json<any>();
    expect(one.Attempts).toEqual([
      {
        Attempt: 1,
        StartedAt: expect.stringMatching(/Z$/),
        DurationMs: expect.any(Number),
        StatusCode: 500,
        Error: "target answered 500",
        ResponseBody: "failure 1",
      },
    ]);
    expect((await api("GET", "/portal-api/deliveries/nope")).status).toBe(404);
  });
});

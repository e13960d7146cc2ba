/** A type removed from a channel's Events: its waiting deliveries of that type are cancelled, the others kept. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

import { api, consume, createChannel, delivery, errorsOf, makeDelivery, makeDue, receivedAt, target } from "../helpers";

describe("a type removed from Events", () => {
  it("cancels the channel's waiting deliveries of that type; a retry sends nothing; redeliver is refused", async () => {
    const url = target("flaky/1");
    const channel = await createChannel({ URL: url, Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("retrying");

    const changed = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["OrganisationRegistered"] });
    expect(changed.status).toBe(200);
    const row = await delivery(deliveryId);
    expect(row.status).toBe("cancelled");
    expect(row.last_error).toBe("webhook unsubscribed from this event type");
    expect(row.next_attempt_at).toBeNull();

    // The retry's message still arrives: it sends nothing.
    await makeDue(deliveryId);
    await consume([deliveryId]);
    expect(await receivedAt(url)).toHaveLength(1);

    const redeliver = await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    expect(redeliver.status).toBe(409);
    expect(await errorsOf(redeliver)).toEqual(["EventType: the webhook is no longer subscribed to UserRegistered"]);
    expect((await delivery(deliveryId)).status).toBe("cancelled");
  });

  it("keeps the deliveries of the types still subscribed", async () => {
    const channel = await createChannel({ URL: target("flaky/1"), Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["UserRegistered"] });
    expect((await delivery(deliveryId)).status).toBe("retrying");
  });

  it("a delivery whose type was dropped while its message was queued is cancelled, not sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Events: ["UserRegistered", "OrganisationRegistered"] });
    const { deliveryId } = await makeDelivery(channel.ID);
    // The subscription row goes without the cancel (as a write racing the consumer's read).
    await env.DB.prepare("delete from channel_events where channel_id = ? and event_type = 'UserRegistered'").bind(channel.ID).run();
    await consume([deliveryId]);
    expect(await receivedAt(url)).toHaveLength(0);
    expect((await delivery(deliveryId)).last_error).toBe("webhook unsubscribed from this event type");
  });
});

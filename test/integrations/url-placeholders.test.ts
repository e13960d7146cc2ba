/** URL placeholders: `{Message.Email}` in a channel's URL, filled from the event for a delivery and from a sample for Test Connection. */
import { describe, expect, inject, it } from "vitest";
import { api, consume, createChannel, delivery, receivedAt, target, uniqueUserRegistered } from "../helpers";
import { deliveryOf, fresh, readDelivery } from "./harness";

describe("URL placeholders", () => {
  it("fills each placeholder with the event's value, encoded as one segment or query value", async () => {
    const key = fresh();
    const channel = await createChannel({ URL: `http://127.0.0.1:${inject("receiverPort")}/ok/${key}/{Message.Email}?org={Message.OrgID}` });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered({ Email: "a/b?c@example.com", OrgID: 7 }));
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("succeeded");
    const [arrived] = await receivedAt(`http://127.0.0.1:${inject("receiverPort")}/ok/${key}/`);
    // A "/" in the value never adds a segment.
    expect(arrived!.path).toBe(`/ok/${key}/a%2Fb%3Fc%40example.com`);
    const read = await readDelivery(deliveryId);
    expect(read.Attempts[0].Request.URL).toBe(`http://127.0.0.1:${inject("receiverPort")}/ok/${key}/a%2Fb%3Fc%40example.com?org=7`);
  });

  it("fails the delivery at once when the event has no value at the path, naming it", async () => {
    const url = target();
    const channel = await createChannel({ URL: `${url}/{Message.Nickname}` });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", last_error: "URL: the event has no value at Message.Nickname" });
    expect(await receivedAt(url)).toEqual([]);
  });

  it("refuses placeholders in the scheme, host or port, and malformed ones", async () => {
    for (const URL of [
      "https://{Message.Org}.example.com/x",
      "https://example.com:{Message.Port}/x",
      "https://example.com/{Message.}",
      "https://example.com/{Message.Email",
    ]) {
      const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL, Events: ["UserRegistered"] });
      expect(res.status, URL).toBe(422);
      expect(((await res.json()) as { errors: string[] }).errors[0], URL).toMatch(/^URL: /);
    }
  });
});

describe("Test Connection with URL placeholders", () => {
  it("fills them from the sample payload of the channel's first event type", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: `${url}/{Message.ID}?email={Message.Email}`, Events: ["UserRegistered"] });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test`);
    expect(await res.json()).toMatchObject({ Success: true, StatusCode: 200 });
    const [head] = await receivedAt(url);
    expect(head).toMatchObject({ method: "HEAD", path: `${new URL(url).pathname}/29` });
  });
});

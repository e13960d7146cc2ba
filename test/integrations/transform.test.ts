/** Transform: the JSONata expression whose result is the body sent, its bounds, and what a channel may hold. */
import { describe, expect, it } from "vitest";
import { api, consume, createChannel, delivery, receivedAt, target, uniqueUserRegistered } from "../helpers";
import { deliveryOf, readDelivery } from "./harness";

describe("Transform", () => {
  it("sends the JSONata result as the body, signed over the bytes sent, with $eventId and $webhookId bound", async () => {
    const url = target();
    const channel = await createChannel({
      URL: url,
      Transform: { Body: `{"email": Message.Email, "name": Message.First & " " & Message.Last, "event": $eventId, "webhook": $webhookId}` },
    });
    const body = uniqueUserRegistered();
    const { eventId, deliveryId } = await deliveryOf(channel.ID, "UserRegistered", body);
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("succeeded");
    const [arrived] = await receivedAt(url);
    const message = JSON.parse(body).Message;
    expect(JSON.parse(arrived!.body)).toEqual({ email: message.Email, name: `${message.First} ${message.Last}`, event: eventId, webhook: channel.ID });
    // The signature covers the transformed bytes.
    const { Secret } = (await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json()) as { Secret: string };
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(atob(Secret.slice(6)), (c) => c.charCodeAt(0)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${eventId}.${arrived!.headers["webhook-timestamp"]}.${arrived!.body}`));
    expect(arrived!.headers["webhook-signature"]).toBe(`v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`);
    // The attempt shows what was sent.
    const read = await readDelivery(deliveryId);
    expect(read.Attempts[0].Request).toEqual({ URL: url, Body: arrived!.body });
  });

  it("ends the delivery cancelled, sending nothing, when the expression yields nothing", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Transform: { Body: `Message.OrgID = 999 ? {"org": Message.OrgID}` } });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    const row = await delivery(deliveryId);
    expect(row).toMatchObject({ status: "cancelled", last_error: "Transform: nothing to send", attempt_count: 0 });
    expect(await receivedAt(url)).toEqual([]);
  });

  it("fails the delivery at once when the expression throws on this event, with the reason", async () => {
    const channel = await createChannel({ URL: target(), Transform: { Body: `{"n": $number(Message.Email)}` } });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    const row = await delivery(deliveryId);
    expect(row.status).toBe("failed");
    expect(row.last_error).toMatch(/^Transform: at character \d+: Unable to cast value to a number: .* \(D3030\)$/);
  });

  it("bounds evaluation in depth and in steps, failing the delivery with the reason", async () => {
    const deep = await createChannel({ URL: target(), Transform: { Body: `($f := function($n) { 1 + $f($n + 1) }; $f(0))` } });
    const long = await createChannel({ URL: target(), Transform: { Body: `$count([1..5000].($map([1..100], function($v) { $v * 2 })))` } });
    const a = await deliveryOf(deep.ID, "UserRegistered", uniqueUserRegistered());
    const b = await deliveryOf(long.ID, "UserRegistered", uniqueUserRegistered());
    await consume([a.deliveryId, b.deliveryId]);
    expect(await delivery(a.deliveryId)).toMatchObject({ status: "failed", last_error: "Transform: expression nested deeper than 200 levels" });
    // Whichever bound comes first: the step budget, or the clock where it moves (a loaded machine).
    expect(await delivery(b.deliveryId)).toMatchObject({
      status: "failed",
      last_error: expect.stringMatching(/^Transform: evaluation (took more than 20000 steps|ran longer than 100 ms)$/),
    });
  });

  it("refuses a malformed expression, a chat Format with it, and one over 16 KiB, naming the field and where", async () => {
    const bad = await api("POST", "/portal-api/webhooks", { Name: "x", URL: target(), Events: ["UserRegistered"], Transform: { Body: `{"a": Message.}` } });
    expect(bad.status).toBe(422);
    expect((await bad.json()) as unknown).toEqual({ errors: [expect.stringMatching(/^Transform\.Body: at character \d+: /)] });
    const chat = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: target(),
      Events: ["UserRegistered"],
      Format: "slack",
      Transform: { Body: "Message" },
    });
    expect(chat.status).toBe(422);
    expect(((await chat.json()) as { errors: string[] }).errors[0]).toMatch(/^Transform: cannot be used with a chat Format/);
    const channel = await createChannel({ URL: target(), Transform: { Body: "Message" } });
    const patched = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Format: "teams" });
    expect(patched.status).toBe(422);
    const big = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: target(),
      Events: ["UserRegistered"],
      Transform: { Body: `"${"a".repeat(16 * 1024)}"` },
    });
    expect(big.status).toBe(422);
    expect(((await big.json()) as { errors: string[] }).errors[0]).toMatch(/^Transform\.Body: must be at most 16384 bytes/);
  });
});

/** The sweeper's re-sends of a delivery whose queue message was lost: backed off by its own re-sends, not an admin's. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, consume, createChannel, delivery, makeDelivery, runSweep, target } from "../helpers";
import { refusingEnv } from "../runs/bindings";

describe("the sweeper's backoff counts its own re-sends, not an admin's", () => {
  it("a delivery redelivered many times whose message was lost is sent again after the usual grace", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    for (let i = 0; i < 7; i++) expect((await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`)).status).toBe(202);
    // The last redeliver's message is lost (a restart): the delivery is pending, long due.
    const past = Date.now() - 10 * 60_000;
    await env.DB.prepare("update deliveries set next_attempt_at = ?, updated_at = ? where id = ?").bind(past, past, deliveryId).run();
    const { reclaimed } = await runSweep(refusingEnv());
    expect(reclaimed.map((r) => r.deliveryId)).toContain(deliveryId);
    expect(await delivery(deliveryId)).toMatchObject({ generation: 8, reclaims: 1 });
  });

  it("doubles the wait after each re-send with no attempt between, and an attempt starts it over", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const { deliveryId } = await makeDelivery(channel.ID);
    const lostFor = async (minutes: number) => {
      const past = Date.now() - minutes * 60_000;
      await env.DB.prepare("update deliveries set next_attempt_at = ?, updated_at = ? where id = ?").bind(past, past, deliveryId).run();
      return (await runSweep(refusingEnv())).reclaimed.some((r) => r.deliveryId === deliveryId);
    };
    expect(await lostFor(3)).toBe(true); // past the 120 s grace
    expect(await lostFor(3)).toBe(false); // the second waits 2 × 120 s
    expect(await lostFor(5)).toBe(true);
    expect(await delivery(deliveryId)).toMatchObject({ reclaims: 2 });
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", reclaims: 0 });
  });
});

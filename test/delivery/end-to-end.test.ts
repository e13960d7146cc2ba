import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { api, createChannel, postEvent, receivedAt, seed, target } from "../helpers";
import { secretOf } from "./delivering";

describe("end to end", () => {
  it("intake → queue → consumer → a real local receiver gets the exact bytes, signed", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Events: ["OrganisationRequestCreated"] });
    const body = seed.find((s) => s.type === "OrganisationRequestCreated")!.body;
    const posted = await postEvent(body, { "Idempotency-Key": crypto.randomUUID() });
    expect(posted.status).toBe(202);
    const { ID } = await posted.json<any>();

    await vi.waitFor(
      async () => {
        const [row] = (await env.DB.prepare("select status from deliveries where event_id = ?").bind(ID).all<any>()).results;
        expect(row.status).toBe("succeeded");
      },
      { timeout: 10_000, interval: 50 },
    );
    const [req] = await receivedAt(url);
    expect(req!.body).toBe(body);
    const { Secret } = await secretOf(channel.ID);
    expect(() => new Webhook(Secret).verify(req!.body, req!.headers)).not.toThrow();

    const event = await (await api("GET", `/portal-api/events/${ID}`)).json<any>();
    expect(event).toMatchObject({ ID, Type: "OrganisationRequestCreated", Payload: JSON.parse(body) });
    expect(event.Deliveries).toHaveLength(1);
    expect(event.Deliveries[0]).toMatchObject({ WebhookID: channel.ID, Status: "succeeded" });
  });
});

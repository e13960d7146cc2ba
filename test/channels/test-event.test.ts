import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { api, count, createChannel, receivedAt, seed, target } from "../helpers";

describe("POST /portal-api/webhooks/{id}/test-event", () => {
  it("sends the type's sample payload through the channel as a delivery goes, and records nothing", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Method: "PUT", Headers: [{ Name: "X-Api-Key", Value: "crm-key-123" }] });
    const before = { events: await count("events"), deliveries: await count("deliveries") };
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "AccessRequestCreated" });
    expect(res.status).toBe(200);
    const result = await res.json<any>();
    expect(result).toMatchObject({ Success: true, StatusCode: 200, Error: null, ResponseBody: "ok" });
    expect(result.DurationMs).toBeGreaterThanOrEqual(0);

    const [arrived] = await receivedAt(url);
    expect(arrived!.method).toBe("PUT");
    expect(arrived!.headers["x-api-key"]).toBe("crm-key-123");
    const { Secret } = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    const sent = new Webhook(Secret).verify(arrived!.body, arrived!.headers) as any;
    const sample = JSON.parse(seed.find((s) => s.type === "AccessRequestCreated")!.body);
    expect(sent.Event).toBe("AccessRequestCreated");
    expect(sent.Message).toEqual(sample.Message);
    expect(Date.now() - Date.parse(sent.Timestamp)).toBeLessThan(60_000);
    expect({ events: await count("events"), deliveries: await count("deliveries") }).toEqual(before);
  });

  it("answers what a failing target said, its echoed secrets masked", async () => {
    const channel = await createChannel({ URL: target("echo/503"), Headers: [{ Name: "X-Api-Key", Value: "crm-key-456" }] });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserRegistered" })).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: 503, Error: "target answered 503" });
    expect(result.ResponseBody).toContain("x-api-key: [redacted]");
  });

  it("refuses an unknown type, naming the field", async () => {
    const channel = await createChannel();
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserDeleted" });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^Event: must be one of/);
  });
});

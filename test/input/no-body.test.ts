/**
 * A route that declares no body takes none: a field sent to it is a 422 naming it, as an
 * unknown field of a declared body is (`Fitler: unknown field`), before it reads or changes
 * anything; no body, an empty one and `{}` are accepted as before.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { ADMIN, api, count, createChannel, delivery, errorsOf, request, target } from "../helpers";
import { failedDelivery } from "./failed-delivery";

const FITLER = { Fitler: 1 };

describe("a body on a route that declares none", () => {
  it("Test Connection, secret rotation and redeliver refuse a field, and do nothing", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    const secret = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json();
    const queue = recordingQueue();
    for (const path of [
      `/portal-api/webhooks/${channel.ID}/test`,
      `/portal-api/webhooks/${channel.ID}/secret/rotate`,
      `/portal-api/deliveries/${deliveryId}/redeliver`,
    ]) {
      const res = await api("POST", path, FITLER, ADMIN, { DELIVERIES: queue });
      expect([res.status, await errorsOf(res)], path).toEqual([422, ["Fitler: unknown field"]]);
    }
    expect(await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json()).toEqual(secret);
    expect(await delivery(deliveryId)).toEqual(row);
    expect(queue.ids).toEqual([]);
  });

  it("every route of the API that declares no body refuses one, before it reads or changes anything", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    const header = await (await api("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-Team", Value: "a" })).json<{ ID: string }>();
    const channels = await count("channels");
    const doc = await (await request("/portal-api/openapi.json")).json<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    const bodiless = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method, operation]) => method !== "get" && !operation.requestBody)
        .map(([method]) => [method.toUpperCase(), path] as const),
    );
    // Test Connection, rotate, redeliver, and the deletes (a webhook, a header).
    expect(bodiless.length).toBeGreaterThanOrEqual(5);
    for (const [method, path] of bodiless) {
      const concrete = `/portal-api${path.replace("{id}", path.startsWith("/deliveries/") ? deliveryId : channel.ID).replace("{header_id}", header.ID)}`;
      const res = await api(method, concrete, { Fitler: 1, Statuss: "x" }, ADMIN, { DELIVERIES: recordingQueue() });
      expect([res.status, await errorsOf(res)], `${method} ${path}`).toEqual([422, ["Fitler: unknown field", "Statuss: unknown field"]]);
    }
    expect(await count("channels")).toBe(channels);
    expect(await count("channel_headers", "id = ?", header.ID)).toBe(1);
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("a body that is not an object, or not JSON, is refused as a body the route does not take", async () => {
    const channel = await createChannel();
    const path = `/portal-api/webhooks/${channel.ID}/secret/rotate`;
    for (const [type, body] of [
      ["application/json", "[]"],
      ["application/json", "null"],
      ["application/json", '"Fitler"'],
      ["text/plain", "Fitler=1"],
      ["application/x-www-form-urlencoded", '{"Fitler":1}'],
    ]) {
      const res = await request(path, { method: "POST", headers: { ...ADMIN, "Content-Type": type! }, body });
      expect([res.status, await errorsOf(res)], `${type} ${body}`).toEqual([422, ["body: this route takes no body"]]);
    }
  });

  it("no body, an empty one, and {} are accepted as before", async () => {
    const channel = await createChannel({ URL: target("ok") });
    const rotate = `/portal-api/webhooks/${channel.ID}/secret/rotate`;
    expect((await request(rotate, { method: "POST", headers: ADMIN })).status).toBe(200);
    expect((await request(rotate, { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: "" })).status).toBe(200);
    expect((await api("POST", rotate, {})).status).toBe(200);
    const test = await api("POST", `/portal-api/webhooks/${channel.ID}/test`, {});
    expect(test.status).toBe(200);
    expect(await test.json()).toMatchObject({ Success: true });
    const { deliveryId } = await failedDelivery();
    const redeliver = await api("POST", `/portal-api/deliveries/${deliveryId}/redeliver`, undefined, ADMIN, { DELIVERIES: recordingQueue() });
    expect(redeliver.status).toBe(202);
    const gone = await createChannel();
    expect((await api("DELETE", `/portal-api/webhooks/${gone.ID}`, {})).status).toBe(200);
    expect(await env.DB.prepare("select count(*) as n from channels where id = ?").bind(gone.ID).first("n")).toBe(0);
  });
});

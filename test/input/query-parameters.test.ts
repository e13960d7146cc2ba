/** Query parameters: each route refuses one it does not declare (a 422 naming it), before it reads or changes anything. */
import { describe, expect, it } from "vitest";
import { deployedApi } from "../api/as-deployed";
import { count, delivery, errorsOf, request } from "../helpers";
import { failedDelivery } from "./failed-delivery";

describe("unknown query parameters", () => {
  it("GET /portal-api/deliveries?statuss=failed is a 422 naming it, not every delivery", async () => {
    const res = await deployedApi("GET", "/portal-api/deliveries?statuss=failed");
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["statuss: unknown parameter"]);
  });

  it("names each unknown parameter, beside the declared ones' problems", async () => {
    const res = await deployedApi("GET", "/portal-api/deliveries?status=nope&foo=1&bar=2&page=1");
    expect(res.status).toBe(422);
    const errors = await errorsOf(res);
    expect(errors).toHaveLength(3);
    expect(errors).toEqual(expect.arrayContaining(["bar: unknown parameter", "foo: unknown parameter", expect.stringMatching(/^status: must be one of /)]));
  });

  it("every route refuses a parameter it does not declare, before it reads or changes anything", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    const channels = await count("channels");
    const doc = await (await request("/portal-api/openapi.json")).json<{ paths: Record<string, Record<string, { servers?: unknown }>> }>();
    // The admin API's routes: the intake (`POST /events`, on a server of its own) takes the portal's URL as configured.
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => !operation.servers)
        .map(([method]) => [method.toUpperCase(), path] as const),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const [method, path] of operations) {
      const concrete = `/portal-api${path.replace(/\{id\}/g, path.startsWith("/deliveries/") ? deliveryId : channel.ID).replace(/\{\w+\}/g, "x")}`;
      const res = await deployedApi(method, `${concrete}?bogus_param=1`, method === "GET" || method === "DELETE" ? undefined : "{}");
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(await errorsOf(res), `${method} ${path}`).toContain("bogus_param: unknown parameter");
    }
    expect(await count("channels")).toBe(channels);
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("the declared parameters still work: page and per_page, and each route's filters", async () => {
    const { channel } = await failedDelivery();
    for (const path of [
      "/portal-api/webhooks?page=1&per_page=5",
      `/portal-api/webhooks/${channel.ID}/deliveries?status=failed&page=1&per_page=5`,
      `/portal-api/deliveries?status=failed&webhook_id=${channel.ID}&event_type=UserRegistered&since=2024-01-01T00:00:00Z&per_page=5`,
      "/portal-api/events?type=UserRegistered&page=2&per_page=1",
      `/portal-api/stats?webhook_id=${channel.ID}`,
    ]) {
      expect((await deployedApi("GET", path)).status, path).toBe(200);
    }
  });
});

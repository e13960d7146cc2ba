/** Times the admin API reads (query parameters, recover bodies, filter operands): RFC 3339, and they must exist. */
import { describe, expect, it } from "vitest";
import { deployedApi } from "../api/as-deployed";
import { count, delivery, errorsOf } from "../helpers";
import { failedDelivery } from "./failed-delivery";

const valid = { Name: "CRM", URL: "https://crm.example.com/hooks", Events: ["UserRegistered"] };

describe("times: RFC 3339, and they must exist", () => {
  const LEAP = "2024-06-30T23:59:60Z";
  const FEB31 = "2024-02-31T00:00:00Z";
  const leapWhy = "must be a time that exists: second 60 (a leap second) is not accepted";
  const feb31Why = "must be a date that exists: February 2024 has 29 days";

  const queries: [string, string][] = [
    ["stats until, a leap second", `/portal-api/stats?until=${LEAP}`],
    ["stats since, 31 February", `/portal-api/stats?since=${FEB31}`],
    ["deliveries since, a leap second", `/portal-api/deliveries?since=${LEAP}`],
    ["deliveries until, 31 February", `/portal-api/deliveries?until=${FEB31}`],
  ];
  it.each(queries)("%s is a 422 naming the parameter, never a 500", async (_name, path) => {
    const res = await deployedApi("GET", path);
    expect(res.status).toBe(422);
    const param = new URL(path, "https://x").searchParams.keys().next().value!;
    expect(await errorsOf(res)).toEqual([`${param}: ${path.includes("60Z") ? leapWhy : feb31Why}`]);
  });

  it("every other impossible date or time is refused too, and real ones pass", async () => {
    for (const [time, why] of [
      ["2023-02-29T00:00:00Z", "must be a date that exists: February 2023 has 28 days"],
      ["2024-04-31T00:00:00Z", "must be a date that exists: April 2024 has 30 days"],
      ["2024-00-10T00:00:00Z", "must be a date that exists: there is no month 00"],
      ["2024-01-00T00:00:00Z", "must be a date that exists: January 2024 has 31 days"],
      ["2024-01-01T24:00:00Z", "must be an RFC 3339 date-time, like 2024-06-30T23:59:59Z"],
      ["2024-01-01", "must be an RFC 3339 date-time, like 2024-06-30T23:59:59Z"],
    ]) {
      const res = await deployedApi("GET", `/portal-api/stats?since=${encodeURIComponent(time!)}`);
      expect(res.status, time).toBe(422);
      expect(await errorsOf(res)).toEqual([`since: ${why}`]);
    }
    for (const [since, until] of [
      ["2024-02-29T23:59:59.999999999Z", "2024-03-01T00:00:00Z"],
      ["2000-02-29T00:00:00+13:00", "2000-03-01T00:00:00-00:00"],
      ["2024-06-30t23:59:59z", "2024-07-01T02:00:00.5+02:00"],
    ]) {
      const res = await deployedApi("GET", `/portal-api/stats?since=${encodeURIComponent(since!)}&until=${encodeURIComponent(until!)}`);
      expect(res.status, since).toBe(200);
      expect((await res.json<{ Since: string }>()).Since).toBe(new Date(Date.parse(since!)).toISOString());
    }
  });

  it("POST /webhooks/{id}/recover refuses a Since that does not exist and requeues nothing", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    for (const [since, why] of [
      [LEAP, leapWhy],
      [FEB31, feb31Why],
    ]) {
      const res = await deployedApi("POST", `/portal-api/webhooks/${channel.ID}/recover`, JSON.stringify({ Since: since }));
      expect(res.status).toBe(422);
      expect(await errorsOf(res)).toEqual([`Since: ${why}`]);
    }
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("POST /deliveries/recover refuses a Since or Until that does not exist and requeues nothing", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    for (const [body, expected] of [
      [{ Since: LEAP, WebhookID: channel.ID }, `Since: ${leapWhy}`],
      [{ Since: "2024-01-01T00:00:00Z", Until: FEB31, WebhookID: channel.ID }, `Until: ${feb31Why}`],
      [{ Since: LEAP, WebhookID: channel.ID, DryRun: true }, `Since: ${leapWhy}`],
    ] as const) {
      const res = await deployedApi("POST", "/portal-api/deliveries/recover", JSON.stringify(body));
      expect(res.status).toBe(422);
      expect(await errorsOf(res)).toEqual([expected]);
    }
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("a filter's time operand must exist too, and nothing is stored", async () => {
    const before = await count("channels");
    const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, Filter: { "Message.CreatedAt": { $gt: FEB31 } } });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Filter.Message.CreatedAt: $gt needs a number or an RFC 3339 time"]);
    expect(await count("channels")).toBe(before);
    const ok = await deployedApi("POST", "/portal-api/webhooks", { ...valid, Filter: { "Message.CreatedAt": { $gt: "2024-02-29T00:00:00Z" } } });
    expect(ok.status).toBe(201);
  });
});

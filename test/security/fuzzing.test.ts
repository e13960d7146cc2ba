/** Arbitrary input (fast-check) to intake and the channel API: never a 5xx, and nothing stored that was refused. */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deployedApi, deployedIntake } from "../api/as-deployed";
import { seed } from "../helpers";
import { rowCounts } from "./row-counts";

describe("properties", () => {
  const runs = { numRuns: 150 };

  it("intake never answers 5xx to arbitrary JSON, and stores only what it accepts", async () => {
    const envelope = fc.record(
      {
        Event: fc.oneof(fc.constantFrom(...seed.map((s) => s.type), "RegisterInvite"), fc.string()),
        Message: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom("ID", "Email", "CreatedAt", "ByUser", "ProductIDs", "Name"), fc.jsonValue())),
        Timestamp: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), envelope), async (value) => {
        const before = await rowCounts();
        const res = await deployedIntake(JSON.stringify(value) ?? "null");
        expect(res.status).toBeLessThan(500);
        if (res.status !== 202 && res.status !== 200) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });

  it("intake never answers 5xx to arbitrary strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary" }), async (text) => {
        const before = await rowCounts();
        const res = await deployedIntake(text);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });

  it("the channel API never answers 5xx, and stores nothing it refuses", async () => {
    const channelish = fc.record(
      {
        Name: fc.oneof(fc.string(), fc.jsonValue()),
        URL: fc.oneof(fc.webUrl(), fc.string(), fc.jsonValue()),
        Method: fc.oneof(fc.constantFrom("POST", "PUT", "PATCH", "GET"), fc.jsonValue()),
        Timeout: fc.oneof(fc.integer({ min: -5, max: 70 }), fc.double(), fc.jsonValue()),
        Events: fc.oneof(fc.array(fc.constantFrom("UserRegistered", "Nope")), fc.jsonValue()),
        Headers: fc.oneof(fc.array(fc.record({ Name: fc.string(), Value: fc.string() }), { maxLength: 22 }), fc.jsonValue()),
        Enabled: fc.oneof(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(channelish, fc.jsonValue()), fc.constantFrom("POST", "PATCH"), async (body, method) => {
        const channel = method === "PATCH" ? ((await env.DB.prepare("select id from channels limit 1").first<{ id: string }>())?.id ?? "nope") : "";
        const before = await rowCounts();
        const res = await deployedApi(method, `/portal-api/webhooks${channel ? `/${channel}` : ""}`, JSON.stringify(body) ?? "null");
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });
});

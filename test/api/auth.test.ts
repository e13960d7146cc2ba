/** Who may call the admin API: a token on every path but the API description's. */
import { describe, expect, it } from "vitest";
import { createChannel, errorsOf, request } from "../helpers";

describe("only /portal-api/openapi.json is public", () => {
  it("answers 401 to any other path ending in /openapi.json, whether the webhook exists or not", async () => {
    const channel = await createChannel();
    for (const path of [
      `/portal-api/webhooks/${channel.ID}/headers/openapi.json`,
      "/portal-api/webhooks/nope/headers/openapi.json",
      "/portal-api/webhooks/openapi.json",
      "/portal-api/events/openapi.json",
    ]) {
      const res = await request(path);
      expect(res.status, path).toBe(401);
      expect(await errorsOf(res)).toEqual(["Authorization: missing or wrong admin token"]);
    }
  });

  it("does not read a large body without a token", async () => {
    const res = await request("/portal-api/webhooks/openapi.json", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ Name: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(res.status).toBe(401);
  });

  it("serves the API description without a token", async () => {
    const res = await request("/portal-api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/webhooks/{id}/headers");
  });
});

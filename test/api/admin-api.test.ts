/**
 * The admin API as a whole, not only channels: who may call it (the admin token, on every
 * route), what openapi.json documents, /healthz, and what an unknown path answers.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, request } from "../helpers";

describe("admin auth", () => {
  const routes: [string, string][] = [
    ["GET", "/portal-api/webhooks"],
    ["POST", "/portal-api/webhooks"],
    ["GET", "/portal-api/webhooks/x"],
    ["PUT", "/portal-api/webhooks/x"],
    ["PATCH", "/portal-api/webhooks/x"],
    ["DELETE", "/portal-api/webhooks/x"],
    ["GET", "/portal-api/webhooks/x/headers"],
    ["POST", "/portal-api/webhooks/x/headers"],
    ["GET", "/portal-api/webhooks/x/headers/y"],
    ["PUT", "/portal-api/webhooks/x/headers/y"],
    ["DELETE", "/portal-api/webhooks/x/headers/y"],
    ["POST", "/portal-api/webhooks/x/test"],
    ["GET", "/portal-api/webhooks/x/secret"],
    ["POST", "/portal-api/webhooks/x/secret/rotate"],
    ["GET", "/portal-api/webhooks/x/deliveries"],
    ["POST", "/portal-api/webhooks/x/recover"],
    ["GET", "/portal-api/deliveries/x"],
    ["POST", "/portal-api/deliveries/x/redeliver"],
    ["GET", "/portal-api/events"],
    ["GET", "/portal-api/events/x"],
    ["GET", "/portal-api/event-types"],
  ];

  it.each(routes)("%s %s answers 401 without a token, with a wrong one, and with the intake token", async (method, path) => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: "Bearer wrong" },
      { Authorization: "wrong" },
      { Authorization: `Bearer ${env.INTAKE_TOKEN}` },
    ]) {
      const res = await request(path, { method, headers });
      expect(res.status).toBe(401);
      const body = await res.json<any>();
      expect(body.errors[0]).toMatch(/^Authorization: /);
    }
  });

  it("accepts the admin token bare or as Bearer", async () => {
    expect((await request("/portal-api/event-types", { headers: { Authorization: env.ADMIN_TOKEN! } })).status).toBe(200);
    expect((await request("/portal-api/event-types", { headers: ADMIN })).status).toBe(200);
  });

  it("refuses everything when ADMIN_TOKEN is not configured", async () => {
    const res = await request("/portal-api/event-types", { headers: { Authorization: "Bearer " } }, { ADMIN_TOKEN: undefined });
    expect(res.status).toBe(401);
    const res2 = await request("/portal-api/event-types", { headers: { Authorization: "undefined" } }, { ADMIN_TOKEN: undefined });
    expect(res2.status).toBe(401);
  });
});

describe("misc routes", () => {
  it("GET /healthz", async () => {
    const res = await request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("openapi.json is public and documents every route", async () => {
    const res = await request("/portal-api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.description).toContain("405");
    const ops = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        "GET /webhooks",
        "POST /webhooks",
        "GET /webhooks/{id}",
        "PUT /webhooks/{id}",
        "PATCH /webhooks/{id}",
        "DELETE /webhooks/{id}",
        "GET /webhooks/{id}/headers",
        "POST /webhooks/{id}/headers",
        "GET /webhooks/{id}/headers/{header_id}",
        "GET /webhooks/{id}/lanes",
        "PUT /webhooks/{id}/headers/{header_id}",
        "DELETE /webhooks/{id}/headers/{header_id}",
        "POST /webhooks/{id}/test",
        "GET /webhooks/{id}/secret",
        "POST /webhooks/{id}/secret/rotate",
        "GET /webhooks/{id}/deliveries",
        "POST /webhooks/{id}/recover",
        "GET /deliveries/{id}",
        "POST /deliveries/{id}/redeliver",
        "GET /events",
        "GET /events/{id}",
        "GET /event-types",
        "GET /intake",
        "GET /intake/token",
        "POST /webhooks/{id}/test-event",
        "GET /deliveries",
        "POST /deliveries/recover",
        "GET /stats",
        "POST /routing/preview",
        "GET /templates",
        "POST /integrations/preview",
        "POST /webhooks/{id}/replay",
        // Intake, outside /portal-api: its operation names its own server.
        "POST /events",
      ].sort(),
    );
    expect(doc.components.schemas.ChannelCreate.required).toEqual(expect.arrayContaining(["Name", "URL", "Events"]));
    const intake = doc.paths["/events"].post;
    expect(intake.servers).toEqual([expect.objectContaining({ url: "/" })]);
    expect(intake.security).toEqual([{ IntakeToken: [] }]);
    expect(Object.keys(intake.responses).sort()).toEqual(["200", "202", "400", "401", "413", "415", "422", "503"]);
    expect(intake.responses["503"].headers["Retry-After"]).toBeDefined();
    expect(intake.responses["202"].content["application/json"].schema.properties).toHaveProperty("Deliveries");
    expect(doc.components.schemas.PortalEvent.anyOf ?? doc.components.schemas.PortalEvent.oneOf).toHaveLength(14);
    expect(doc.paths["/events"].get.servers).toBeUndefined();
    // The admin UI takes its status list from here (public/js/api-facts.js).
    expect(doc.components.schemas.Delivery.properties.Status.enum).toEqual(["pending", "retrying", "held", "succeeded", "failed", "cancelled"]);
  });

  it("unknown paths answer 404 in the error shape", async () => {
    const res = await request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: ["path: not found"] });
    expect((await request("/portal-api/nope", { method: "DELETE", headers: ADMIN })).status).toBe(404);
  });

  it("a known path asked with a method it does not take answers 405, with Allow naming those it does", async () => {
    const cases: [string, string, string][] = [
      ["POST", "/portal-api/webhooks/7e0d8a6e-3c4b-4f8e-9d1a-2b3c4d5e6f70", "GET, HEAD, PUT, PATCH, DELETE"],
      ["DELETE", "/portal-api/webhooks", "GET, HEAD, POST"],
      ["POST", "/portal-api/stats", "GET, HEAD"],
      ["GET", "/portal-api/webhooks/7e0d8a6e-3c4b-4f8e-9d1a-2b3c4d5e6f70/test", "POST"],
      ["DELETE", "/events", "GET, HEAD, POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await request(path, { method, headers: path.startsWith("/events") ? {} : ADMIN });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("Allow"), `${method} ${path}`).toBe(allow);
      expect(await res.json()).toEqual({ errors: [`method: ${method} is not allowed here; allowed: ${allow}`] });
    }
    // Without the token, the API says nothing of its routes.
    expect((await request("/portal-api/webhooks", { method: "DELETE" })).status).toBe(401);
  });
});

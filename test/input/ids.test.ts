/**
 * Ids: in a body, a malformed one is a 422 naming its field (a typo must not pass for "none
 * matched"); in a path, any id that names nothing (malformed or not) is a 404, on every route.
 */
import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { recordingQueue } from "../doubles";
import { ADMIN, api, createChannel, errorsOf, request } from "../helpers";

describe("ids in a body", () => {
  it("POST /portal-api/deliveries/recover refuses a WebhookID that is not a webhook's id", async () => {
    for (const WebhookID of ["nope", "", `${crypto.randomUUID()}x`]) {
      const res = await api("POST", "/portal-api/deliveries/recover", { Since: "2024-01-01T00:00:00Z", WebhookID, DryRun: true });
      expect([res.status, await errorsOf(res)], WebhookID).toEqual([422, ["WebhookID: must be a webhook ID (a UUID)"]]);
    }
  });
});

describe("ids in a path", () => {
  it("every route with an id in its path answers 404 for one that names nothing, malformed or not", async () => {
    const channel = await createChannel();
    const doc = await (await request("/portal-api/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    const withIds = Object.entries(doc.paths)
      .filter(([path]) => path.includes("{"))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => [method.toUpperCase(), path] as const));
    expect(withIds.length).toBeGreaterThan(15);
    // Bodies each route takes, so that only the id can be what is wrong.
    const bodies: Record<string, unknown> = {
      "POST /webhooks/{id}/headers": { Name: "X-Team", Value: "a" },
      "PUT /webhooks/{id}/headers/{header_id}": { Value: "a" },
      "PUT /webhooks/{id}": { Name: "CRM" },
      "PATCH /webhooks/{id}": { Name: "CRM" },
      "POST /webhooks/{id}/test-event": { Event: "UserRegistered" },
      "POST /webhooks/{id}/recover": { Since: "2024-01-01T00:00:00Z" },
      "POST /webhooks/{id}/replay": { Since: "2024-01-01T00:00:00Z" },
    };
    for (const missing of ["nope", crypto.randomUUID(), timeOrderedId(Date.now()), "%20"]) {
      for (const [method, path] of withIds) {
        // The last id in the path is the one that names nothing; those before it name what exists.
        const ids = path.match(/\{\w+\}/g)!;
        let concrete = path;
        ids.forEach((param, i) => {
          concrete = concrete.replace(param, i === ids.length - 1 ? missing : channel.ID);
        });
        const res = await api(method, `/portal-api${concrete}`, bodies[`${method} ${path}`], ADMIN, { DELIVERIES: recordingQueue() });
        expect(res.status, `${method} ${concrete}`).toBe(404);
        expect(await errorsOf(res), `${method} ${concrete}`).toEqual([expect.stringMatching(/^(Webhook|Header|Delivery|Event): not found$/)]);
      }
    }
  });
});

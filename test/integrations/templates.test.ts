/** The request templates (GET /portal-api/templates): their fields, their golden requests, and each end to end against a target that checks its API. */
import { describe, expect, it } from "vitest";
import { templateRequests } from "../../src/integrations/template-requests";
import goldenTemplates from "../fixtures/golden/templates.json";
import { api, consume, createChannel, delivery, seed } from "../helpers";
import { BASIC, CLIENT } from "../integration-targets";
import { base, deliveryOf, fresh, log } from "./harness";

describe("GET /portal-api/templates", () => {
  it("lists the six templates with every field the contract names", async () => {
    const res = await api("GET", "/portal-api/templates");
    expect(res.status).toBe(200);
    const list = (await res.json()) as any[];
    expect(list.map((t) => t.ID)).toEqual(["lago", "moesif", "hubspot", "salesforce", "jira-service-management", "servicenow"]);
    for (const t of list) expect(Object.keys(t).sort()).toEqual(["Auth", "Description", "Events", "Headers", "ID", "Method", "Name", "Transform", "URL"]);
  });

  it("makes in the Workers runtime exactly the golden requests (JSONata interprets: no eval, no new Function)", async () => {
    expect(await templateRequests()).toEqual(goldenTemplates);
  });

  it("each template, created as a channel against a target that checks its API, takes the seed's sample events end to end", async () => {
    const templates = (await (await api("GET", "/portal-api/templates")).json()) as any[];
    const samples = new Map(seed.map((s) => [s.type, s.body]));
    for (const t of templates) {
      const key = fresh();
      const auth =
        t.Auth?.Type === "basic"
          ? { Type: "basic", Username: BASIC.user, Password: BASIC.password }
          : t.Auth?.Type === "oauth2"
            ? { Type: "oauth2", TokenURL: `${base()}/token/${key}?expires_in=3600`, ClientID: CLIENT.id, ClientSecret: CLIENT.secret }
            : null;
      const headerValues: Record<string, string> = { Authorization: "Bearer pat-123", "X-Moesif-Application-Id": "moesif-app-1" };
      const channel = await createChannel({
        Name: t.Name,
        URL: t.URL.replace(/^https:\/\/[^/]+/, `${base()}/${t.ID}/${key}`),
        Method: t.Method,
        Events: t.Events,
        Transform: t.Transform,
        Auth: auth,
        Headers: t.Headers.map((Name: string) => ({ Name, Value: headerValues[Name] })),
      });
      const sent = [];
      for (const type of t.Events) {
        const body = samples.get(type);
        if (body) sent.push({ type, ...(await deliveryOf(channel.ID, type, body)) });
      }
      expect(sent.length, t.ID).toBeGreaterThan(0);
      await consume(sent.map((d) => d.deliveryId));
      for (const d of sent) {
        const row = await delivery(d.deliveryId);
        expect({ template: t.ID, type: d.type, status: row.status, error: row.last_error }).toEqual({
          template: t.ID,
          type: d.type,
          status: "succeeded",
          error: null,
        });
      }
      expect((await log(`/${t.ID}/${key}/`)).length).toBe(sent.length);
    }
  });
});

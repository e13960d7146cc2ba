/** GET /portal-api/event-types: the event catalog, the portal's 14 types, then the dispatcher's own 2. */
import { describe, expect, it } from "vitest";
import { api } from "../helpers";

describe("misc routes", () => {
  it("GET /portal-api/event-types lists the 14 portal types, then the 2 operational ones", async () => {
    const types = await (await api("GET", "/portal-api/event-types")).json<string[]>();
    expect(types).toHaveLength(16);
    expect(types.slice(14)).toEqual(["Dispatcher.DeliveryFailed", "Dispatcher.WebhookDisabled"]);
    expect(types).toContain("RegisterInvite");
    expect(types).toContain("OrganisationRequestRejected");
  });
});

/** The events API: GET /portal-api/events (newest first, by type, paged) and one event with its payload as received. */
import { beforeEach, describe, expect, it } from "vitest";
import { api, uniqueUserRegistered } from "../helpers";
import { noChannels, post } from "../intake/posting";

// No channel subscribes: the event read back has no deliveries.
beforeEach(noChannels);

describe("events API", () => {
  it("lists events newest first, filtered by type, paginated, with the payload as received", async () => {
    const app1 = JSON.stringify({
      Event: "ApplicationRegistered",
      Message: { ID: 7, Name: "A", UserID: 1, CreatedAt: "2024-04-18T13:29:23Z", Score: 1.5 },
      Timestamp: "2024-04-18T13:29:23Z",
    }).replace("1.5", "1.50");
    const first = await (await post(app1)).res.json<any>();
    await new Promise((r) => setTimeout(r, 5));
    const second = await (await post(uniqueUserRegistered())).res.json<any>();
    await new Promise((r) => setTimeout(r, 5));
    const third = await (await post(app1.replace('"ID":7', '"ID":8'))).res.json<any>();

    const apps = await (await api("GET", "/portal-api/events?type=ApplicationRegistered&per_page=100")).json<any[]>();
    const ids = apps.map((e) => e.ID);
    expect(ids.indexOf(third.ID)).toBeLessThan(ids.indexOf(first.ID));
    expect(ids).not.toContain(second.ID);
    expect(apps.every((e) => e.Type === "ApplicationRegistered")).toBe(true);

    const page1 = await (await api("GET", "/portal-api/events?per_page=1")).json<any[]>();
    const page2 = await (await api("GET", "/portal-api/events?per_page=1&page=2")).json<any[]>();
    expect(page1[0].ID).toBe(third.ID);
    expect(page2[0].ID).toBe(second.ID);

    // The payload is the stored text spliced in, so even 1.50 keeps its spelling.
    const raw = await (await api("GET", `/portal-api/events/${first.ID}`)).text();
    expect(raw).toContain(`"Payload":${app1}`);
    const one = JSON.parse(raw);
    expect(one).toMatchObject({ ID: first.ID, Type: "ApplicationRegistered", ReceivedAt: expect.stringMatching(/Z$/), Deliveries: [] });

    expect((await api("GET", "/portal-api/events?type=Nope")).status).toBe(422);
    expect((await api("GET", "/portal-api/events/nope")).status).toBe(404);
  });
});

/** GET /portal-api/webhooks: the channel list, paged, with what the Channels view shows of each. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingD1 } from "../doubles";
import { ADMIN, api, createChannel, makeDelivery } from "../helpers";

describe("channel API: list", () => {
  it("lists channels with page and per_page", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createChannel({ Name: `page-${i}` }));
    const all = await (await api("GET", "/portal-api/webhooks?per_page=100")).json<any[]>();
    const ids = all.map((c) => c.ID);
    expect(ids).toEqual(expect.arrayContaining(made.map((c) => c.ID)));
    const position = ids.indexOf(made[0]!.ID);

    // With one per page, page n holds the channel at index n - 1: made[1] is right after made[0].
    const one = await (await api("GET", `/portal-api/webhooks?page=${position + 2}&per_page=1`)).json<any[]>();
    expect(one).toHaveLength(1);
    expect(one[0].ID).toBe(made[1]!.ID);

    const bad = await api("GET", "/portal-api/webhooks?per_page=0");
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^per_page: /);
  });
});

describe("the channel list answers what the Channels view shows", () => {
  it("each channel's newest delivery and failure streak, in one round trip", async () => {
    const quiet = await createChannel({ Name: "Quiet" });
    const busy = await createChannel({ Name: "Busy" });
    const start = Date.now() + 10 * 86_400_000;
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await makeDelivery(busy.ID, undefined, start + i * 1000)).deliveryId);
    await env.DB.prepare("update deliveries set status = 'failed' where id = ?").bind(made.at(-1)).run();
    await env.DB.prepare("update deliveries set last_error = 'target answered 500' where id = ?").bind(made.at(-1)).run();
    await env.DB.prepare("update channels set failing_since = 1700000000000 where id = ?").bind(busy.ID).run();

    const { db, counter } = countingD1(env.DB);
    const res = await api("GET", "/portal-api/webhooks?per_page=100", undefined, ADMIN, { DB: db });
    expect(res.status).toBe(200);
    expect(counter.roundTrips).toBe(1);
    const listed = await res.json<any[]>();
    expect(listed.find((c) => c.ID === quiet.ID)).toMatchObject({ LastDelivery: null, FailingSince: null });
    expect(listed.find((c) => c.ID === busy.ID)).toMatchObject({
      FailingSince: "2023-11-14T22:13:20.000Z",
      LastDelivery: { ID: made.at(-1), Status: "failed", LastError: "target answered 500" },
    });
  });
});

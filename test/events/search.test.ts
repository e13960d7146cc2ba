/** Search (GET /portal-api/events?q=, GET /portal-api/deliveries?q=): any event found by what its payload says. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingD1, recordingQueue } from "../doubles";
import { appWith, createChannel, target, uniqueUserRegistered } from "../helpers";
import { freshSince, postAll, withQueue } from "../replay/windowed-events";
import { fullScans } from "../storage/query-plans";

describe("search: GET /portal-api/events?q= and GET /portal-api/deliveries?q=", () => {
  it("finds events by email, name and ID in any case, newest first, paged; and nothing where nothing matches", async () => {
    const { call, post } = withQueue();
    const since = await freshSince();
    const channel = await createChannel({ URL: target("ok") });
    const marker = crypto.randomUUID().slice(0, 8);
    const [bob, ada, bob2] = await postAll(post, [
      uniqueUserRegistered({ Email: `bob.${marker}@example.com`, First: "Bob", Last: `Stone${marker}`, ID: 424242 }),
      uniqueUserRegistered({ Email: `ada.${marker}@example.com`, First: "Ada", Last: `Lovelace${marker}` }),
      uniqueUserRegistered({ Email: `BOB.${marker}@Example.com`, First: "Bob", Last: `Stone${marker}` }),
    ]);
    const ids = async (path: string) => {
      const res = await call("GET", path);
      expect(res.status, path).toBe(200);
      return (await res.json<{ ID: string }[]>()).map((e) => e.ID);
    };
    const q = (text: string) => `/portal-api/events?q=${encodeURIComponent(text)}`;
    expect(await ids(q(`bob.${marker}@example.com`))).toEqual([bob2, bob]);
    expect(await ids(q(`BOB.${marker}@EXAMPLE.COM`))).toEqual([bob2, bob]);
    expect(await ids(q(`stone${marker}`))).toEqual([bob2, bob]);
    expect(await ids(q(`lovelace${marker}`))).toEqual([ada]);
    expect(await ids(q(`"ID":424242`))).toEqual([bob]);
    expect(await ids(q(ada!.toUpperCase()))).toEqual([ada]);
    expect(await ids(q(`nobody-${marker}`))).toEqual([]);
    // LIKE's own wildcards are plain text here.
    expect(await ids(q(`%${marker}%`))).toEqual([]);
    expect(await ids(q(`bob_${marker}`))).toEqual([]);
    // Paged with the Link cursor, like every list.
    const first = await call("GET", `${q(marker)}&per_page=2`);
    expect((await first.json<{ ID: string }[]>()).map((e) => e.ID)).toEqual([bob2, ada]);
    const next = /<([^>]*)>; rel="next"/.exec(first.headers.get("Link") ?? "")?.[1];
    expect(next).toBeTruthy();
    expect(await ids(next!)).toEqual([bob]);
    // Within the window given, and of a type.
    expect(await ids(`${q(marker)}&since=${encodeURIComponent(since)}&type=UserRegistered`)).toEqual([bob2, ada, bob]);
    expect(await ids(`${q(marker)}&until=${encodeURIComponent(since)}`)).toEqual([]);
    expect(await ids(`${q(marker)}&type=AccessRequestCreated`)).toEqual([]);

    // The deliveries of matching events.
    const deliveries = await call("GET", `/portal-api/deliveries?q=${encodeURIComponent(`BOB.${marker}`)}`);
    const found = await deliveries.json<{ EventID: string; WebhookID: string }[]>();
    expect(found.filter((d) => d.WebhookID === channel.ID).map((d) => d.EventID)).toEqual([bob2, bob]);
    expect(found.every((d) => d.EventID === bob || d.EventID === bob2)).toBe(true);
    expect(await (await call("GET", `/portal-api/deliveries?q=nobody-${marker}`)).json()).toEqual([]);
    expect(
      (await (await call("GET", `/portal-api/deliveries?webhook_id=${channel.ID}&q=${encodeURIComponent(`lovelace${marker}`)}`)).json<any[]>()).map(
        (d) => d.EventID,
      ),
    ).toEqual([ada]);
  });

  it("reads key ranges only", async () => {
    const { db, counter } = countingD1(env.DB);
    const { call } = appWith({ DB: db, DELIVERIES: recordingQueue() });
    for (const path of ["/portal-api/events?q=Ada", "/portal-api/events?q=ada&type=UserRegistered", "/portal-api/deliveries?q=ada"]) {
      expect((await call("GET", path)).status).toBe(200);
    }
    expect(await fullScans(counter.statements)).toEqual([]);
  });

  it("refuses a window over 31 days, times that do not exist, an empty q and unknown parameters", async () => {
    const { call } = withQueue();
    const errors = async (path: string) => {
      const res = await call("GET", path);
      return [res.status, (await res.json<{ errors: string[] }>()).errors];
    };
    expect(await errors("/portal-api/events?q=ada&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:01Z")).toEqual([
      422,
      ["since: the window is at most 31 days (since to until)"],
    ]);
    expect(await errors("/portal-api/deliveries?q=ada&since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z")).toEqual([
      422,
      ["since: the window is at most 31 days (since to until)"],
    ]);
    expect(await errors("/portal-api/events?q=ada&since=2026-02-30T00:00:00Z")).toEqual([422, [expect.stringMatching(/^since: must be a date that exists/)]]);
    expect(await errors("/portal-api/events?q=ada&since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")).toEqual([422, ["since: must be before until"]]);
    // Without q too: a reversed window is a mistake, never "nothing matched".
    expect(await errors("/portal-api/events?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z")).toEqual([422, ["since: must be before until"]]);
    expect(await errors("/portal-api/events?q=")).toEqual([422, [expect.stringMatching(/^q: /)]]);
    expect(await errors("/portal-api/events?query=ada")).toEqual([422, ["query: unknown parameter"]]);
    // 31 days exactly is allowed.
    expect((await call("GET", "/portal-api/events?q=ada&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z")).status).toBe(200);
  });
});

/**
 * Cursor paging: every list answers `Link: <…>; rel="next"` (RFC 8288) while more items
 * follow, and following it lists every item that existed from the first page to the last
 * exactly once, however items change status or arrive meanwhile.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { api, createChannel, makeDelivery, target } from "../helpers";

const DAY = 86_400_000;

/** The target of the `rel="next"` link, or null. */
function nextOf(res: Response): string | null {
  const link = res.headers.get("Link");
  if (link === null) return null;
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(match, `Link: ${link}`).not.toBeNull();
  return match![1]!;
}

/** GET a list, expecting 200: its items' ids and its next link. */
async function read(path: string) {
  const res = await api("GET", path);
  expect(res.status, path).toBe(200);
  return { ids: (await res.json<{ ID: string }[]>()).map((item) => item.ID), next: nextOf(res) };
}

/** Follows `next` from `path` to the last page; `between` runs after each page. */
async function walk(path: string, between: (page: number) => Promise<void> = async () => {}) {
  const pages: string[][] = [];
  let at: string | null = path;
  while (at) {
    const { ids, next } = await read(at);
    pages.push(ids);
    expect(pages.length, "pages").toBeLessThan(100);
    if (next) await between(pages.length);
    at = next;
  }
  return pages;
}

const setStatus = (status: string, ids: string[]) =>
  env.DB.prepare("update deliveries set status = ? where id in (select value from json_each(?))").bind(status, JSON.stringify(ids)).run();

// Each test makes its deliveries and events a day further in the future than the last,
// so they are the newest in this file's database and a `since` picks exactly them.
let days = 0;
const future = () => Date.now() + ++days * 10 * DAY;

/** `n` deliveries to `channelId`, a second apart from `start`, oldest first. */
async function deliveriesOf(channelId: string, n: number, start: number) {
  const made = [];
  for (let i = 0; i < n; i++) made.push((await makeDelivery(channelId, undefined, start + i * 1000)).deliveryId);
  return made;
}

describe("the issue's case: six failed deliveries, three a page, the first three redelivered", () => {
  for (const list of ["channel", "every channel", "every channel, one webhook"] as const) {
    it(`lists all six on ${list}'s list`, async () => {
      const channel = await createChannel({ URL: target("ok") });
      const start = future();
      const failed = await deliveriesOf(channel.ID, 6, start);
      await setStatus("failed", failed);
      const newestFirst = [...failed].reverse();
      const since = encodeURIComponent(new Date(start).toISOString());
      const path = {
        channel: `/portal-api/webhooks/${channel.ID}/deliveries?status=failed&per_page=3`,
        "every channel": `/portal-api/deliveries?status=failed&since=${since}&per_page=3`,
        "every channel, one webhook": `/portal-api/deliveries?status=failed&webhook_id=${channel.ID}&per_page=3`,
      }[list];

      const first = await read(path);
      expect(first.ids).toEqual(newestFirst.slice(0, 3));
      for (const id of first.ids) expect((await api("POST", `/portal-api/deliveries/${id}/redeliver`)).status).toBe(202);
      // Offset paging lost these three: page 2 was empty.
      const second = await read(first.next!);
      expect(second.ids).toEqual(newestFirst.slice(3));
      expect(second.next).toBeNull();
    });
  }
});

describe("the Link header", () => {
  it("carries the filters and per_page, drops page, and is absent on the last page", async () => {
    const channel = await createChannel();
    const made = (await deliveriesOf(channel.ID, 4, future())).reverse();
    const first = await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?status=pending&page=1&per_page=2`);
    const next = nextOf(first)!;
    const url = new URL(next, "https://dispatcher.test");
    expect(url.pathname).toBe(`/portal-api/webhooks/${channel.ID}/deliveries`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ status: "pending", per_page: "2", cursor: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
    expect((await first.json<{ ID: string }[]>()).map((d) => d.ID)).toEqual(made.slice(0, 2));
    // Exactly two left: the second page is the last, with no Link.
    const second = await read(next);
    expect(second).toEqual({ ids: made.slice(2), next: null });
  });

  it("is absent when everything fits one page", async () => {
    const channel = await createChannel();
    await deliveriesOf(channel.ID, 2, future());
    const res = await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?per_page=2`);
    expect(res.headers.get("Link")).toBeNull();
    expect(await res.json()).toHaveLength(2);
  });

  it("page and per_page still work as offsets, and page counts on from a cursor", async () => {
    const channel = await createChannel();
    const made = (await deliveriesOf(channel.ID, 7, future())).reverse();
    const base = `/portal-api/webhooks/${channel.ID}/deliveries?per_page=2`;
    expect((await read(`${base}&page=2`)).ids).toEqual(made.slice(2, 4));
    expect((await read(`${base}&page=4`)).ids).toEqual(made.slice(6));
    const { next } = await read(`${base}&page=1`);
    expect((await read(`${next}&page=2`)).ids).toEqual(made.slice(4, 6));
  });
});

describe("following next lists every item exactly once while items change and arrive", () => {
  it("every channel's deliveries, unfiltered and failed only", async () => {
    const channels = await Promise.all([createChannel(), createChannel(), createChannel()]);
    const start = future();
    const made: string[] = [];
    // Interleaved across channels, a second apart.
    for (let i = 0; i < 15; i++) made.push((await makeDelivery(channels[i % 3]!.ID, undefined, start + i * 1000)).deliveryId);
    // A third stay failed throughout; the rest flip between failed and succeeded.
    const steady = made.filter((_, i) => i % 3 === 0);
    const flipping = made.filter((_, i) => i % 3 !== 0);
    await setStatus("failed", made);
    let arrivals = 0;
    const meanwhile = async (page: number) => {
      await setStatus(page % 2 ? "succeeded" : "failed", flipping);
      // New deliveries arrive, newer and older than the cursor.
      await makeDelivery(channels[page % 3]!.ID, undefined, start + 20_000 + page);
      await makeDelivery(channels[page % 3]!.ID, undefined, start + 500 + page);
      arrivals += 2;
    };
    const since = encodeURIComponent(new Date(start).toISOString());

    const all = (await walk(`/portal-api/deliveries?since=${since}&per_page=4`, meanwhile)).flat();
    expect(arrivals).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((id) => made.includes(id))).toEqual([...made].reverse());

    await setStatus("failed", made);
    const failed = (await walk(`/portal-api/deliveries?status=failed&since=${since}&per_page=2`, meanwhile)).flat();
    expect(new Set(failed).size).toBe(failed.length);
    expect(failed.filter((id) => steady.includes(id))).toEqual([...steady].reverse());

    // One channel's list, the same way.
    const mine = made.filter((_, i) => i % 3 === 0);
    const listed = (await walk(`/portal-api/webhooks/${channels[0]!.ID}/deliveries?per_page=2`, meanwhile)).flat();
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.filter((id) => mine.includes(id))).toEqual([...mine].reverse());
  });

  it("events, across types and of one type", async () => {
    const start = future();
    const types = ["UserRegistered", "PasswordReset", "OrganisationRegistered"];
    const made: { id: string; type: string }[] = [];
    const insert = async (type: string, at: number) => {
      const id = timeOrderedId(at);
      await env.DB.prepare("insert into events (id, type, body, received_at) values (?, ?, '{}', ?)").bind(id, type, at).run();
      return { id, type };
    };
    for (let i = 0; i < 12; i++) made.push(await insert(types[i % 3]!, start + i * 1000));
    const meanwhile = async (page: number) => {
      await insert(types[page % 3]!, start + 60_000 + page);
    };
    const ids = made.map((e) => e.id);
    const all = (await walk("/portal-api/events?per_page=5", meanwhile)).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((id) => ids.includes(id))).toEqual([...ids].reverse());

    const resets = made.filter((e) => e.type === "PasswordReset").map((e) => e.id);
    const ofType = (await walk("/portal-api/events?type=PasswordReset&per_page=1", meanwhile)).flat();
    expect(new Set(ofType).size).toBe(ofType.length);
    expect(ofType.filter((id) => resets.includes(id))).toEqual([...resets].reverse());
  });

  it("channels, oldest first", async () => {
    const before = (await walk("/portal-api/webhooks?per_page=100")).flat();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await createChannel({ Name: `Paged ${i}` })).ID);
    let created = 0;
    const all = (
      await walk("/portal-api/webhooks?per_page=3", async () => {
        // A channel changes, another arrives: neither moves the walk.
        await api("PATCH", `/portal-api/webhooks/${made[created % made.length]}`, { Enabled: false });
        await createChannel({ Name: `Arrived ${created++}` });
      })
    ).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.slice(0, before.length)).toEqual(before);
    expect(all.filter((id) => made.includes(id))).toEqual(made);
    expect(created).toBeGreaterThan(2);
  });
});

describe("an invalid cursor", () => {
  it("is a 422 naming cursor, on every list", async () => {
    const channel = await createChannel();
    await deliveriesOf(channel.ID, 2, future());
    const { next: deliveriesNext } = await read(`/portal-api/webhooks/${channel.ID}/deliveries?per_page=1`);
    const deliveriesCursor = new URL(deliveriesNext!, "https://dispatcher.test").searchParams.get("cursor")!;
    const lists = ["/portal-api/webhooks", `/portal-api/webhooks/${channel.ID}/deliveries`, "/portal-api/deliveries", "/portal-api/events"];
    const bad = ["nope", "%%%", "", "eyJ4IjoxfQ", btoa(JSON.stringify(["deliveries", "'; drop table deliveries; --"])), "A".repeat(600)];
    for (const path of lists) {
      for (const cursor of bad) {
        const res = await api("GET", `${path}?cursor=${encodeURIComponent(cursor)}`);
        expect(res.status, `${path} ${cursor}`).toBe(422);
        const { errors } = await res.json<{ errors: string[] }>();
        expect(errors[0], path).toMatch(/^cursor: /);
      }
    }
    // A cursor of one list is not a cursor of another.
    for (const path of ["/portal-api/webhooks", "/portal-api/events", "/portal-api/deliveries"]) {
      expect((await api("GET", `${path}?cursor=${deliveriesCursor}`)).status, path).toBe(422);
    }
    const { next: allNext } = await read("/portal-api/deliveries?per_page=1");
    const allCursor = new URL(allNext!, "https://dispatcher.test").searchParams.get("cursor")!;
    expect((await api("GET", `/portal-api/webhooks/${channel.ID}/deliveries?cursor=${allCursor}`)).status).toBe(422);
  });
});

describe("the OpenAPI document", () => {
  it("declares cursor on every list, beside page and per_page", async () => {
    const doc = await (await api("GET", "/portal-api/openapi.json")).json<any>();
    // Paths are relative to the server, /portal-api.
    for (const path of ["/webhooks", "/webhooks/{id}/deliveries", "/deliveries", "/events"]) {
      const described = doc.paths[path] ?? doc.paths[`${path}/`];
      const names = described.get.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name);
      expect(names, path).toEqual(expect.arrayContaining(["page", "per_page", "cursor"]));
    }
  });
});

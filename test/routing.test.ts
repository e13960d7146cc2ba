/**
 * Routing: payload filters (semantics, validation, intake that stays one round trip and
 * never routes on a stale filter) and chat formats (every type × every format, each tool's
 * required fields, escaping, golden files, signed over the bytes sent). Limits, plain text,
 * bounded judging and masking: test/routing-limits.test.ts.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { eventTypes } from "../src/portal/catalog";
import { sampleEvent } from "../src/portal/samples";
import { checkFilter, compileFilter } from "../src/routing/filter";
import { type Format, renderBody } from "../src/routing/formats";
import { countingD1, recordingQueue } from "./doubles";
import goldenFiles from "./fixtures/golden/formats.json";
import { api, consume, createChannel, INTAKE, makeDelivery, receivedAt, seed, target, uniqueUserRegistered } from "./helpers";

const event = {
  Event: "AccessRequestCreated",
  Message: { ID: 12, AppID: 3, ByUser: 5, Status: "pending", ProductIDs: [1, 2], PlanID: 7, CreatedAt: "2024-04-22T16:38:54Z", OrgID: 7, Tags: ["gold", "eu"] },
  Timestamp: "2024-04-22T16:38:54Z",
};

describe("Filter semantics", () => {
  it.each([
    ["plain value equal", { "Message.OrgID": 7 }, true],
    ["plain value not equal", { "Message.OrgID": 8 }, false],
    ["nested object for the same path", { Message: { OrgID: 7, Status: "pending" } }, true],
    ["the event type", { Event: "AccessRequestCreated" }, true],
    ["array field contains the value", { "Message.ProductIDs": 2 }, true],
    ["array field lacks the value", { "Message.ProductIDs": 3 }, false],
    ["$eq", { "Message.PlanID": { $eq: 7 } }, true],
    ["$neq", { "Message.PlanID": { $neq: 7 } }, false],
    ["$neq on a missing path", { "Message.Nope": { $neq: 1 } }, true],
    ["$gt", { "Message.ID": { $gt: 11 } }, true],
    ["$gte equal", { "Message.ID": { $gte: 12 } }, true],
    ["$lt", { "Message.ID": { $lt: 12 } }, false],
    ["$lte", { "Message.ID": { $lte: 12 } }, true],
    ["$gt and $lt together", { "Message.ID": { $gt: 10, $lt: 20 } }, true],
    ["$gt on a time", { Timestamp: { $gt: "2024-01-01T00:00:00Z" } }, true],
    ["$lt on a time with an offset", { "Message.CreatedAt": { $lt: "2024-04-22T18:00:00+02:00" } }, false],
    ["$gt on a string field: type mismatch", { "Message.Status": { $gt: 1 } }, false],
    ["$gt on a missing path", { "Message.Nope": { $gt: 1 } }, false],
    ["$in", { "Message.PlanID": { $in: [1, 7] } }, true],
    ["$in against an array field", { "Message.Tags": { $in: ["us", "eu"] } }, true],
    ["$nin", { "Message.PlanID": { $nin: [1, 7] } }, false],
    ["$nin on a missing path", { "Message.Nope": { $nin: [1] } }, true],
    ["$exist true", { "Message.AppID": { $exist: true } }, true],
    ["$exist false", { "Message.Nope": { $exist: false } }, true],
    ["$exist on null", { "Message.AppID": { $exist: false } }, false],
    ["type mismatch on equal", { "Message.OrgID": "7" }, false],
    ["$or", { $or: [{ "Message.OrgID": 1 }, { "Message.OrgID": 7 }] }, true],
    ["$and", { $and: [{ "Message.OrgID": 7 }, { "Message.PlanID": 8 }] }, false],
    ["$or nested in $and", { $and: [{ Event: "AccessRequestCreated" }, { $or: [{ "Message.Status": "approved" }, { "Message.ByUser": { $lte: 5 } }] }] }, true],
    ["every key must match", { "Message.OrgID": 7, "Message.PlanID": 8 }, false],
    ["a path through a non-object", { "Message.OrgID.x": 7 }, false],
    ["an inherited property is not a path", { "Message.constructor": { $exist: true } }, false],
    ["an empty filter matches everything", {}, true],
  ])("%s", (_name, filter, matches) => {
    expect(checkFilter(filter)).toEqual([]);
    expect(compileFilter(filter as never)(event)).toBe(matches);
  });

  it.each([
    [[], [["Filter", "must be an object (or null)"]]],
    [{ "Message.OrgID": { $gt: "seven" } }, [["Filter.Message.OrgID", "$gt needs a number or an RFC 3339 time"]]],
    [{ "Message.OrgID": { $in: 7 } }, [["Filter.Message.OrgID", "$in needs an array"]]],
    [{ "Message.OrgID": { $exist: 1 } }, [["Filter.Message.OrgID", "$exist needs true or false"]]],
    [{ "Message.OrgID": { $regex: ".*" } }, [["Filter.Message.OrgID", expect.stringMatching(/^\$regex is not an operator/)]]],
    [{ $and: {} }, [["Filter.$and", "$and needs a non-empty array of filters"]]],
    [{ $or: [{ "Message.ID": { $lt: [] } }] }, [["Filter.$or.0.Message.ID", "$lt needs a number or an RFC 3339 time"]]],
    [{ $eq: 1 }, [["Filter.$eq", expect.stringMatching(/must be inside a field's condition/)]]],
    [{ "Message..ID": 1 }, [["Filter.Message..ID", "must be a dotted path like Message.OrgID"]]],
    [{ Message: { OrgID: 1, $gt: 2 } }, [["Filter.Message", "must hold either operators or fields, not both"]]],
    [{ a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }, [["Filter", "must be at most 8 levels deep"]]],
    [{ "Message.Name": { $in: Array(2000).fill("x") } }, [["Filter", "must be at most 4096 bytes"]]],
  ])("refuses %j", (filter, problems) => {
    expect(checkFilter(filter)).toEqual(problems);
  });

  const json = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("OrgID", "ID", "Tags", "Name"), tie("value"), { maxKeys: 3 }),
    ),
  })).value;
  const leaf = fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constantFrom("pending", "eu", "2024-04-22T16:38:54Z"));
  const condition = fc.oneof(
    leaf,
    fc.record({ $eq: leaf }),
    fc.record({ $gt: fc.integer() }),
    fc.record({ $in: fc.array(leaf, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $exist: fc.boolean() }),
  );
  const filter = fc.dictionary(fc.constantFrom("Message.OrgID", "Message.ID", "Message.Tags", "Event", "Message.Status"), condition, {
    minKeys: 1,
    maxKeys: 3,
  });
  const events = fc.record({ Event: fc.constantFrom("AccessRequestCreated", "UserRegistered"), Message: json, Timestamp: fc.string() });

  it("never throws, whatever the event", () => {
    fc.assert(
      fc.property(filter, fc.anything(), (f, e) => typeof compileFilter(f as never)(e) === "boolean"),
      { numRuns: 300 },
    );
  });

  it("$and of a filter with itself matches exactly what the filter matches", () => {
    fc.assert(
      fc.property(filter, events, (f, e) => compileFilter({ $and: [f, f] } as never)(e) === compileFilter(f as never)(e)),
      { numRuns: 300 },
    );
  });

  it("{$in: [v]} matches exactly what {$eq: v} matches", () => {
    fc.assert(
      fc.property(
        leaf,
        events,
        (v, e) => compileFilter({ "Message.OrgID": { $in: [v] } } as never)(e) === compileFilter({ "Message.OrgID": { $eq: v } } as never)(e),
      ),
      { numRuns: 300 },
    );
  });
});

describe("Filter on a channel", () => {
  it("is refused at save with a 422 naming the path", async () => {
    const res = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: "https://crm.example.com/",
      Events: ["UserRegistered"],
      Filter: { Message: { OrgID: { $gt: "seven" } } },
    });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["Filter.Message.OrgID: $gt needs a number or an RFC 3339 time"]);
  });

  it("routes at intake in one round trip, and a changed filter applies to the next event", async () => {
    const org7 = await createChannel({ URL: target(), Filter: { "Message.OrgID": 7 } });
    const others = await createChannel({ URL: target(), Filter: { "Message.OrgID": { $neq: 7 } } });
    const open = await createChannel({ URL: target() });
    const post = async (orgId: number, d1: D1Database = env.DB) => {
      const res = await app.request(
        "/events",
        { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: uniqueUserRegistered({ OrgID: orgId }) },
        { ...env, DB: d1, DELIVERIES: recordingQueue() },
      );
      const { ID } = await res.json<any>();
      const rows = await env.DB.prepare("select channel_id from deliveries where event_id = ?").bind(ID).all<{ channel_id: string }>();
      return rows.results.map((r) => r.channel_id);
    };
    const mine = (ids: string[]) => ids.filter((id) => [org7.ID, others.ID, open.ID].includes(id)).sort();
    expect(mine(await post(7))).toEqual([org7.ID, open.ID].sort());
    // The cache is warm now: one round trip.
    const { db, counter } = countingD1(env.DB);
    expect(mine(await post(8, db))).toEqual([others.ID, open.ID].sort());
    expect(counter.roundTrips).toBe(1);
    // A changed filter is never judged from the stale cache.
    await api("PATCH", `/portal-api/webhooks/${org7.ID}`, { Filter: { "Message.OrgID": 8 } });
    expect(mine(await post(8))).toEqual([org7.ID, others.ID, open.ID].sort());
    expect(mine(await post(7))).toEqual([open.ID]);
    await api("PATCH", `/portal-api/webhooks/${org7.ID}`, { Filter: null });
    expect(mine(await post(7))).toEqual([org7.ID, open.ID].sort());
  });

  it("routes a filtered channel's newly subscribed type right the first time", async () => {
    const channel = await createChannel({ URL: target(), Events: ["UserRegistered"], Filter: { "Message.Name": { $exist: true } } });
    const post = async (body: string) => {
      const res = await app.request(
        "/events",
        { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body },
        { ...env, DELIVERIES: recordingQueue() },
      );
      const { ID } = await res.json<any>();
      return (await env.DB.prepare("select count(*) as n from deliveries where event_id = ? and channel_id = ?").bind(ID, channel.ID).first<{ n: number }>())!
        .n;
    };
    expect(await post(uniqueUserRegistered())).toBe(0); // a user has no Name: filtered out, and the filter is now cached
    await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Events: ["UserRegistered", "OrganisationRegistered"] });
    const org = JSON.stringify({
      Event: "OrganisationRegistered",
      Message: { ID: Date.now(), Name: "ACME", CreatedAt: "2024-04-22T16:38:54Z" },
      Timestamp: new Date().toISOString(),
    });
    expect(await post(org)).toBe(1);
  });

  it("previews a filter on the last 20 events of a type, and a format's message", async () => {
    const res = await api("POST", "/portal-api/routing/preview", { Event: "UserRegistered", Format: "slack", Filter: { "Message.OrgID": 7 } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(JSON.parse(body.Body).text).toMatch(/^New user registered: /);
    expect(body.Matches.length).toBeGreaterThan(0);
    expect(body.Matches.length).toBeLessThanOrEqual(20);
    for (const m of body.Matches) {
      const stored = await env.DB.prepare("select body from events where id = ?").bind(m.ID).first<{ body: string }>();
      expect(m.Matched).toBe(JSON.parse(stored!.body).Message.OrgID === 7);
    }
    const bad = await api("POST", "/portal-api/routing/preview", { Event: "UserRegistered", Filter: { "Message.OrgID": { $gt: "x" } } });
    expect(bad.status).toBe(422);
  });
});

/** Each tool's required fields and limits, from its documentation. */
const SCHEMA: Record<Exclude<Format, "raw">, (m: any) => void> = {
  // Slack incoming webhooks: `text` (the notification fallback) and Block Kit `blocks`; a
  // section's text is at most 3000 characters, at most 10 fields of 2000 each.
  slack: (m) => {
    expect(typeof m.text).toBe("string");
    expect(m.text.length).toBeGreaterThan(0);
    expect(m.text.length).toBeLessThanOrEqual(40_000);
    expect(Array.isArray(m.blocks)).toBe(true);
    for (const block of m.blocks) {
      expect(["section", "context"]).toContain(block.type);
      if (block.text) {
        expect(block.text.type).toBe("mrkdwn");
        expect(block.text.text.length).toBeLessThanOrEqual(3000);
      }
      if (block.fields) expect(block.fields.length).toBeLessThanOrEqual(10);
      for (const f of block.fields ?? []) {
        expect(f.type).toBe("mrkdwn");
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
  },
  // Teams Workflows: {"type": "message", "attachments": [{contentType adaptive, content: AdaptiveCard}]}.
  teams: (m) => {
    expect(m.type).toBe("message");
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
    const card = m.attachments[0].content;
    expect(card.type).toBe("AdaptiveCard");
    expect(card.version).toMatch(/^1\.\d$/);
    expect(card.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
    for (const el of card.body) expect(["TextBlock", "FactSet"]).toContain(el.type);
    // A Teams message is at most about 28 KB.
    expect(new TextEncoder().encode(JSON.stringify(m)).length).toBeLessThanOrEqual(28_000);
  },
  // Discord: `content` at most 2000 characters, at most 10 embeds; a title at most 256, at
  // most 25 fields, a name 256 and a value 1024, both non-empty.
  discord: (m) => {
    expect(typeof m.content).toBe("string");
    expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(m.embeds.length).toBeGreaterThanOrEqual(1);
    expect(m.embeds.length).toBeLessThanOrEqual(10);
    for (const e of m.embeds) {
      expect(e.title.length).toBeLessThanOrEqual(256);
      expect(e.fields.length).toBeLessThanOrEqual(25);
      for (const f of e.fields) {
        expect(f.name.length).toBeGreaterThan(0);
        expect(f.value.length).toBeGreaterThan(0);
        expect(f.name.length).toBeLessThanOrEqual(256);
        expect(f.value.length).toBeLessThanOrEqual(1024);
      }
      // All of an embed's text together: at most 6000.
      expect(e.title.length + e.fields.reduce((n: number, f: any) => n + f.name.length + f.value.length, 0)).toBeLessThanOrEqual(6000);
    }
    expect(m.allowed_mentions).toEqual({ parse: [] });
  },
};

describe("Format", () => {
  const formats = ["slack", "teams", "discord"] as const;
  const cases = eventTypes.flatMap((type) => formats.map((format) => [type, format] as const));

  it.each(cases)("%s as %s: a sentence, the key fields and the time, in the tool's format", (type, format) => {
    const message = JSON.parse(renderBody(format, sampleEvent(type, new Date("2026-01-02T03:04:05Z")), "https://portal.example.com"));
    SCHEMA[format](message);
    const text = JSON.stringify(message);
    expect(text).toContain("2026-01-02T03:04:05");
    expect(text).not.toContain(`${type} event`); // every type has a sentence of its own
  });

  it("writes the sentence the issue asks for", () => {
    const slack = JSON.parse(renderBody("slack", JSON.stringify(event)));
    expect(slack.text).toBe("New access request #12 for app 3 (plan 7, products 1, 2) by user 5");
  });

  it.each(formats)("escapes hostile names in %s so nobody is pinged and no markup is made", (format) => {
    const hostile = seed.find((s) => s.type === "UserRegistered")!;
    const parsed = JSON.parse(hostile.body);
    parsed.Message.First = "<!here> @channel <@U123>";
    parsed.Message.Last = "*bold* _it_ [x](http://evil.example) @everyone";
    const message = renderBody(format, JSON.stringify(parsed));
    expect(message).not.toContain("<!here>");
    expect(message).not.toContain("<@U123>");
    expect(message).not.toMatch(/@(channel|everyone|here)/);
    if (format !== "slack") expect(message).not.toContain("[x](http");
  });

  // Regenerate after a deliberate change: see the README (Routing).
  it("matches the golden files", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    const rendered = Object.fromEntries(
      formats.map((f) => [f, JSON.parse(renderBody(f, sampleEvent("AccessRequestCreated", now), "https://portal.example.com"))]),
    );
    expect(rendered).toEqual(goldenFiles);
  });

  it("delivers a Slack message, signed over the bytes sent", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Format: "slack" });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [arrived] = await receivedAt(url);
    const { Secret } = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    const verified = new Webhook(Secret).verify(arrived!.body, arrived!.headers) as any;
    expect(verified.text).toMatch(/^New user registered: Ada Lovelace/);
    expect(arrived!.headers["content-type"]).toBe("application/json");
  });

  it("refuses an unknown format", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Format: "irc" });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors).toEqual(["Format: must be one of raw, slack, teams, discord"]);
  });
});

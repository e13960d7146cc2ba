import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { REFUSED_NOTE_EVERY_MS } from "../src/intake/seen";
import { countingD1, recordingQueue } from "./doubles";
import { api, count, INTAKE, request, seed, uniqueUserRegistered } from "./helpers";

/** Calls the worker's app with a recording queue (and optionally another D1). */
async function post(body: string | Uint8Array, headers: Record<string, string> = {}, bindings: Record<string, unknown> = {}) {
  const queue = (bindings.DELIVERIES as ReturnType<typeof recordingQueue>) ?? recordingQueue();
  const res = await app.request(
    "/events",
    { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json", ...headers }, body },
    { ...env, DELIVERIES: queue, ...bindings },
  );
  return { res, queue };
}

async function insertChannel(events: string[], enabled = true): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("insert into channels (id, name, url, secret, enabled, created_at, updated_at) values (?, 'c', 'https://example.com/h', 'x', ?, ?, ?)").bind(
      id,
      enabled ? 1 : 0,
      now,
      now,
    ),
    ...events.map((e) => env.DB.prepare("insert into channel_events (event_type, channel_id) values (?, ?)").bind(e, id)),
  ]);
  return id;
}

async function deliveriesOf(eventId: string) {
  const { results } = await env.DB.prepare("select id, channel_id, status, event_type from deliveries where event_id = ?").bind(eventId).all<any>();
  return results;
}

async function storedRows() {
  return { events: await count("events"), deliveries: await count("deliveries") };
}

beforeEach(async () => {
  // Each test decides which channels exist.
  await env.DB.prepare("delete from channels").run();
});

describe("POST /events", () => {
  it.each(seed.map((s) => [s.type, s.body]))("accepts the seed's %s sample as printed and stores it byte for byte", async (type, body) => {
    const subscribed = [await insertChannel([type]), await insertChannel([type, "RegisterInvite"])];
    await insertChannel([type], false);
    await insertChannel([type === "UserRegistered" ? "PasswordReset" : "UserRegistered"]);

    const { res, queue } = await post(body);
    expect(res.status).toBe(202);
    const answer = await res.json<any>();
    expect(answer).toEqual({ ID: expect.any(String), Deliveries: 2 });

    const stored = await env.DB.prepare("select type, body from events where id = ?").bind(answer.ID).first<any>();
    expect(stored.type).toBe(type);
    expect(stored.body).toBe(body);

    const rows = await deliveriesOf(answer.ID);
    expect(rows.map((r) => r.channel_id).sort()).toEqual(subscribed.sort());
    expect(rows.every((r) => r.status === "pending" && r.event_type === type)).toBe(true);
    expect(queue.ids.sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("accepts RegisterInvite with any object as Message", async () => {
    const { res } = await post(JSON.stringify({ Event: "RegisterInvite", Message: { Anything: [1, { x: null }] }, Timestamp: "2024-04-18T13:29:23Z" }));
    expect(res.status).toBe(202);
  });

  it("keeps unknown extra fields, and accepts any offset and up to 9 fractional digits", async () => {
    const body = uniqueUserRegistered({ NewField: { nested: true }, CreatedAt: "2024-04-24T15:26:04.312618088-07:30" });
    const { res } = await post(body);
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const stored = await env.DB.prepare("select body from events where id = ?").bind(ID).first<any>();
    expect(stored.body).toBe(body);
  });

  it("queues 250 subscribed channels as 250 deliveries in 3 sendBatch calls of at most 100", async () => {
    for (let i = 0; i < 250; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => insertChannel(["ApplicationRegistered"])));
    }
    const body = JSON.stringify({
      Event: "ApplicationRegistered",
      Message: { ID: 1, Name: "New App", UserID: 1, CreatedAt: "2024-04-18T13:29:23.738726+02:00" },
      Timestamp: new Date().toISOString(),
    });
    const { res, queue } = await post(body);
    expect(res.status).toBe(202);
    const { ID, Deliveries } = await res.json<any>();
    expect(Deliveries).toBe(250);
    expect((await deliveriesOf(ID)).length).toBe(250);
    expect(queue.sent.map((batch) => batch.length)).toEqual([100, 100, 50]);
    expect(new Set(queue.ids).size).toBe(250);
  });

  it("makes the same number of D1 round trips (one) whatever the number of channels, and writes 2 rows per delivery", async () => {
    const trips = [];
    const written = [];
    for (const channels of [1, 40]) {
      await env.DB.prepare("delete from channels").run();
      await Promise.all(Array.from({ length: channels }, () => insertChannel(["UserRegistered"])));
      const { db, counter } = countingD1(env.DB);
      const { res } = await post(uniqueUserRegistered(), {}, { DB: db });
      expect(res.status).toBe(202);
      expect((await res.json<any>()).Deliveries).toBe(channels);
      trips.push(counter.roundTrips);
      written.push(counter.rowsWritten);
    }
    expect(trips).toEqual([1, 1]);
    // Rows D1 bills: the event, its row (the primary key is the table) and its body hash
    // for the dedupe (2); per delivery, its row and its entry in the live index (2).
    expect(written).toEqual([2 + 2 * 1, 2 + 2 * 40]);
  });

  it("answers a byte-identical body within 24 hours as a duplicate, with no new deliveries", async () => {
    await insertChannel(["UserRegistered"]);
    const body = uniqueUserRegistered();
    const first = await post(body);
    const { ID } = await first.res.json<any>();
    const before = await storedRows();

    const again = await post(body);
    expect(again.res.status).toBe(200);
    expect(await again.res.json()).toEqual({ ID, Deliveries: 1, Duplicate: true });
    expect(again.queue.ids).toEqual([]);
    expect(await storedRows()).toEqual(before);
  });

  it("answers a repeated Idempotency-Key with the same body as a duplicate", async () => {
    await insertChannel(["UserRegistered"]);
    const key = crypto.randomUUID();
    const body = uniqueUserRegistered();
    const first = await post(body, { "Idempotency-Key": key });
    const { ID } = await first.res.json<any>();
    const before = await storedRows();
    const again = await post(body, { "Idempotency-Key": key });
    expect(again.res.status).toBe(200);
    expect(await again.res.json()).toEqual({ ID, Deliveries: 1, Duplicate: true });
    expect(await storedRows()).toEqual(before);
  });

  it("refuses a repeated Idempotency-Key with another body (422, the IETF draft), storing nothing, in one round trip", async () => {
    await insertChannel(["UserRegistered"]);
    const key = crypto.randomUUID();
    const first = await post(uniqueUserRegistered(), { "Idempotency-Key": key });
    expect(first.res.status).toBe(202);
    const before = await storedRows();
    const { db, counter } = countingD1(env.DB);
    const other = uniqueUserRegistered();
    const again = await post(other, { "Idempotency-Key": key }, { DB: db });
    expect(again.res.status).toBe(422);
    expect(await again.res.json()).toEqual({ errors: ["Idempotency-Key: already used for another body"] });
    expect(again.queue.ids).toEqual([]);
    expect(counter.roundTrips).toBe(1);
    expect(await storedRows()).toEqual(before);
    expect(await count("events", "body = ?", other)).toBe(0);
    // Even when the new body is itself a duplicate of another event: the key names one request.
    const third = await post(uniqueUserRegistered(), { "Idempotency-Key": crypto.randomUUID() });
    expect(third.res.status).toBe(202);
    const reused = await post(other, { "Idempotency-Key": key });
    expect(reused.res.status).toBe(422);
    // Another key, or none, for the new body is a new event.
    expect((await post(other, { "Idempotency-Key": crypto.randomUUID() })).res.status).toBe(202);
  });

  it("accepts one of many identical bodies posted at once; the others are duplicates of it, in one round trip each", async () => {
    await insertChannel(["UserRegistered"]);
    const body = uniqueUserRegistered();
    const { db, counter } = countingD1(env.DB);
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(body, {}, { DB: db })));
    const statuses = answers.map((a) => a.res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 202]);
    const jsons = await Promise.all(answers.map((a) => a.res.json<any>()));
    expect(new Set(jsons.map((j) => j.ID)).size).toBe(1);
    expect(jsons.filter((j) => j.Duplicate)).toHaveLength(5);
    expect(answers.flatMap((a) => a.queue.ids)).toHaveLength(1);
    expect(await count("events", "id = ?", jsons[0].ID)).toBe(1);
    expect(await count("deliveries", "event_id = ?", jsons[0].ID)).toBe(1);
    expect(counter.roundTrips).toBe(6);
  });

  it("accepts the same body again once the 24-hour window has passed", async () => {
    const body = uniqueUserRegistered();
    const first = await post(body);
    const { ID } = await first.res.json<any>();
    await env.DB.prepare("update events set received_at = ? where id = ?")
      .bind(Date.now() - 24 * 3600_000 - 1, ID)
      .run();
    const again = await post(body);
    expect(again.res.status).toBe(202);
    expect((await again.res.json<any>()).ID).not.toBe(ID);
  });

  it("still answers 202 when the queue refuses, leaving the deliveries pending for the sweeper", async () => {
    await insertChannel(["UserRegistered"]);
    const { res } = await post(uniqueUserRegistered(), {}, { DELIVERIES: recordingQueue(true) });
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const rows = await deliveriesOf(ID);
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe("pending");
  });

  describe("refuses what is not a portal event, storing nothing", () => {
    const valid = uniqueUserRegistered();
    const message = JSON.parse(valid).Message;
    const event = (overrides: Record<string, unknown>, msg: Record<string, unknown> = {}) =>
      JSON.stringify({ Event: "UserRegistered", Timestamp: "2024-04-22T16:38:54.082037+02:00", ...overrides, Message: { ...message, ...msg } });

    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["no token", async () => (await post(valid, { Authorization: "" })).res, 401, /^Authorization: /],
      ["a wrong token", async () => (await post(valid, { Authorization: "Bearer nope" })).res, 401, /^Authorization: /],
      ["the admin token", async () => (await post(valid, { Authorization: `Bearer ${env.ADMIN_TOKEN}` })).res, 401, /^Authorization: /],
      ["text/plain", async () => (await post(valid, { "Content-Type": "text/plain" })).res, 415, /^Content-Type: /],
      ["a form", async () => (await post("a=b", { "Content-Type": "application/x-www-form-urlencoded" })).res, 415, /^Content-Type: /],
      ["more than 256 KiB", async () => (await post(event({}, { Pad: "x".repeat(256 * 1024) }))).res, 413, /^body: /],
      ["malformed JSON", async () => (await post('{"Event": "UserRegistered",')).res, 400, /^body: /],
      ["invalid UTF-8", async () => (await post(new Uint8Array([0x7b, 0xff, 0x7d]))).res, 400, /^body: /],
      ["a JSON array", async () => (await post("[]")).res, 422, /^body: /],
      ["an unknown Event", async () => (await post(event({ Event: "UserExploded" }))).res, 422, /^Event: /],
      ["a missing Event", async () => (await post(event({ Event: undefined }))).res, 422, /^Event: /],
      ["a Timestamp that is not RFC 3339", async () => (await post(event({ Timestamp: "22/04/2024" }))).res, 422, /^Timestamp: /],
      ["a Timestamp with 10 fractional digits", async () => (await post(event({ Timestamp: "2024-04-22T16:38:54.0820370000Z" }))).res, 422, /^Timestamp: /],
      [
        "a Message that is not an object",
        async () => (await post(JSON.stringify({ Event: "UserRegistered", Message: "hi", Timestamp: "2024-04-22T16:38:54Z" }))).res,
        422,
        /^Message: /,
      ],
      ["an ID that is a string", async () => (await post(event({}, { ID: "29" }))).res, 422, /^Message\.ID: /],
      ["a missing Email", async () => (await post(event({}, { Email: undefined }))).res, 422, /^Message\.Email: /],
      ["a bad CreatedAt", async () => (await post(event({}, { CreatedAt: "yesterday" }))).res, 422, /^Message\.CreatedAt: /],
      [
        "a CustomAttributes entry of the wrong type",
        async () => (await post(event({}, { CustomAttributes: [{ Identifier: 1, Value: "x" }] }))).res,
        422,
        /^Message\.CustomAttributes\.0\.Identifier: /,
      ],
      [
        "ProductIDs holding a string",
        async () =>
          (
            await post(
              JSON.stringify({
                Event: "AccessRequestApproved",
                Timestamp: "2024-04-18T13:48:08Z",
                Message: { ID: 1, AppID: 3, ByUser: 3, Status: "approved", ProductIDs: ["1"], PlanID: 2, CreatedAt: "2024-04-18T13:36:02Z" },
              }),
            )
          ).res,
        422,
        /^Message\.ProductIDs\.0: /,
      ],
      ["a bad Idempotency-Key", async () => (await post(valid, { "Idempotency-Key": "a b" })).res, 422, /^Idempotency-Key: /],
      // Times must exist (RFC 3339): never read as another time.
      [
        "a Timestamp on 31 February",
        async () => (await post(event({ Timestamp: "2024-02-31T10:00:00Z" }))).res,
        422,
        /^Timestamp: must be a date that exists: February 2024 has 29 days$/,
      ],
      [
        "a Timestamp on a leap second",
        async () => (await post(event({ Timestamp: "2024-06-30T23:59:60Z" }))).res,
        422,
        /^Timestamp: must be a time that exists: second 60 \(a leap second\) is not accepted$/,
      ],
      ["a Timestamp in month 13", async () => (await post(event({ Timestamp: "2024-13-01T10:00:00Z" }))).res, 422, /^Timestamp: must be a date that exists/],
      [
        "a CreatedAt on 29 February of a common year",
        async () => (await post(event({}, { CreatedAt: "2023-02-29T10:00:00Z" }))).res,
        422,
        /^Message\.CreatedAt: must be a date that exists: February 2023 has 28 days$/,
      ],
    ];

    it.each(cases)("%s", async (_name, send, status, field) => {
      const before = await storedRows();
      const res = await send();
      expect(res.status).toBe(status);
      const body = await res.json<any>();
      expect(body.errors.length).toBeGreaterThan(0);
      expect(body.errors[0]).toMatch(field);
      expect(await storedRows()).toEqual(before);
    });
  });
});

describe("HEAD and GET /events", () => {
  it("answer 200 without auth, for the portal's Test Connection", async () => {
    expect((await app.request("/events", { method: "HEAD" }, env)).status).toBe(200);
    expect((await app.request("/events", { method: "GET" }, env)).status).toBe(200);
  });
});

describe("the portal's connection, as the admin UI shows it", () => {
  const status = async () => await (await api("GET", "/portal-api/intake")).json<Record<string, string | null>>();

  it("notes the portal's Test Connection (a bare HEAD), a refused token and the last event", async () => {
    await env.DB.prepare("delete from intake_seen").run();
    const before = await status();
    expect(before.URL).toBe("https://dispatcher.test/events");
    expect(before.LastTestConnectionAt).toBeNull();
    expect(before.LastRefusedAt).toBeNull();

    const started = Date.now();
    expect((await request("/events", { method: "HEAD" })).status).toBe(200);
    await expect.poll(async () => (await status()).LastTestConnectionAt).not.toBeNull();
    expect(Date.parse((await status()).LastTestConnectionAt!)).toBeGreaterThanOrEqual(started);
    // A GET (a browser, a health check) is not the portal's Test Connection.
    await env.DB.prepare("delete from intake_seen").run();
    await request("/events");
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).LastTestConnectionAt).toBeNull();

    // A minute on: the refused tokens of earlier tests in this isolate were noted before.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + REFUSED_NOTE_EVERY_MS);
    try {
      expect(
        (await request("/events", { method: "POST", headers: { Authorization: "Bearer wrong", "Content-Type": "application/json" }, body: seed[0]!.body }))
          .status,
      ).toBe(401);
      await expect.poll(async () => (await status()).LastRefusedAt).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }

    const body = JSON.stringify({ ...JSON.parse(seed[5]!.body), Timestamp: new Date().toISOString() });
    expect((await request("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body })).status).toBe(202);
    const after = await status();
    expect(after.LastEventType).toBe(JSON.parse(body).Event);
    expect(Date.parse(after.LastEventAt!)).toBeGreaterThanOrEqual(started);
  });

  it("notes a refused token at most once a minute per isolate: a flood of them makes no D1 call each", async () => {
    const wrong = () =>
      app.request(
        "/events",
        { method: "POST", headers: { Authorization: "Bearer wrong", "Content-Type": "application/json" }, body: seed[0]!.body },
        { ...env, DB: db },
      );
    const { db, counter } = countingD1(env.DB);
    await env.DB.prepare("delete from intake_seen").run();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      // Well past any note an earlier test made in this isolate.
      vi.setSystemTime(Date.now() + 10 * REFUSED_NOTE_EVERY_MS);
      for (let i = 0; i < 20; i++) expect((await wrong()).status).toBe(401);
      await expect.poll(async () => (await status()).LastRefusedAt).not.toBeNull();
      expect(counter.roundTrips).toBe(1);
      const noted = (await status()).LastRefusedAt;

      vi.setSystemTime(Date.now() + REFUSED_NOTE_EVERY_MS - 1000);
      for (let i = 0; i < 5; i++) await wrong();
      await new Promise((r) => setTimeout(r, 50));
      expect(counter.roundTrips).toBe(1);
      expect((await status()).LastRefusedAt).toBe(noted);

      // A minute after the last note, the next refusal is noted again.
      vi.setSystemTime(Date.now() + 1000);
      await wrong();
      await expect.poll(async () => (await status()).LastRefusedAt).not.toBe(noted);
      expect(counter.roundTrips).toBe(2);
      expect(counter.statements.every((s) => /intake_seen/.test(s.sql))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it("writes a HEAD at most every 10 seconds, since anyone may send one", async () => {
    await env.DB.prepare("delete from intake_seen").run();
    await request("/events", { method: "HEAD" });
    await expect.poll(async () => (await status()).LastTestConnectionAt).not.toBeNull();
    const first = (await status()).LastTestConnectionAt;
    for (let i = 0; i < 5; i++) await request("/events", { method: "HEAD" });
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).LastTestConnectionAt).toBe(first);
    // Ten seconds later it is written again.
    await env.DB.prepare("update intake_seen set at = at - 11000").run();
    await request("/events", { method: "HEAD" });
    await expect.poll(async () => (await status()).LastTestConnectionAt).not.toBe(first);
  });

  it("gives the intake token to an admin only", async () => {
    expect(await (await api("GET", "/portal-api/intake/token")).json()).toEqual({ Token: env.INTAKE_TOKEN });
    expect((await api("GET", "/portal-api/intake/token", undefined, INTAKE)).status).toBe(401);
  });
});

describe("events API", () => {
  const admin = (path: string) => app.request(path, { headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` } }, env);

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

    const apps = await (await admin("/portal-api/events?type=ApplicationRegistered&per_page=100")).json<any[]>();
    const ids = apps.map((e) => e.ID);
    expect(ids.indexOf(third.ID)).toBeLessThan(ids.indexOf(first.ID));
    expect(ids).not.toContain(second.ID);
    expect(apps.every((e) => e.Type === "ApplicationRegistered")).toBe(true);

    const page1 = await (await admin("/portal-api/events?per_page=1")).json<any[]>();
    const page2 = await (await admin("/portal-api/events?per_page=1&page=2")).json<any[]>();
    expect(page1[0].ID).toBe(third.ID);
    expect(page2[0].ID).toBe(second.ID);

    // The payload is the stored text spliced in, so even 1.50 keeps its spelling.
    const raw = await (await admin(`/portal-api/events/${first.ID}`)).text();
    expect(raw).toContain(`"Payload":${app1}`);
    const one = JSON.parse(raw);
    expect(one).toMatchObject({ ID: first.ID, Type: "ApplicationRegistered", ReceivedAt: expect.stringMatching(/Z$/), Deliveries: [] });

    expect((await admin("/portal-api/events?type=Nope")).status).toBe(422);
    expect((await admin("/portal-api/events/nope")).status).toBe(404);
  });
});

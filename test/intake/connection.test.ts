/** HEAD and GET /events for the portal's Test Connection, and the portal's connection as the admin UI shows it. */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { REFUSED_NOTE_EVERY_MS } from "../../src/intake/connection-status";
import { countingD1 } from "../doubles";
import { api, INTAKE, request, seed } from "../helpers";

describe("HEAD and GET /events", () => {
  it("answer 200 without auth, for the portal's Test Connection", async () => {
    expect((await request("/events", { method: "HEAD" })).status).toBe(200);
    expect((await request("/events", { method: "GET" })).status).toBe(200);
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
      request("/events", { method: "POST", headers: { Authorization: "Bearer wrong", "Content-Type": "application/json" }, body: seed[0]!.body }, { DB: db });
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

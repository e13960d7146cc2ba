/**
 * Flow control against a real `wrangler dev` (its queue, its timers) and a real receiver:
 * a rate limit kept in the starts the dispatcher recorded, pause, hold and drain, paced
 * resumes, and ordered lanes through a failing receiver.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../scripts/lib/dev-server.mjs";

interface Arrival {
  path: string;
  at: number;
  id: number;
  /** The answer: its status, and when it was sent (performance.now()). */
  status: number;
  answeredAt?: number;
  /** The event's place in its test's posting order (Message.Seq), where the test sets one. */
  seq?: number;
}

/** What the receiver answers at a path (200 where none is set). */
const answers = new Map<string, (message: { ID: number; Seq?: number }) => number>();

describe("flow control under wrangler dev", () => {
  let server: Awaited<ReturnType<typeof startDispatcher>>;
  let receiver: http.Server;
  let base: string;
  const arrivals: Arrival[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const { Message } = JSON.parse(Buffer.concat(chunks).toString());
        const path = req.url ?? "";
        const status = answers.get(path)?.(Message) ?? 200;
        const arrival: Arrival = { path, at: performance.now(), id: Message.ID, seq: Message.Seq, status };
        arrivals.push(arrival);
        res.writeHead(status).end(status < 300 ? "ok" : "try again", () => {
          arrival.answeredAt = performance.now();
        });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    // A short retry schedule, for the ordered lanes behind a failing receiver.
    server = await startDispatcher({ RETRY_SCHEDULE: "1,1,1,1,1,1,1,1" });
  });

  afterAll(async () => {
    await server?.stop();
    receiver?.close();
  });

  const admin = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${server.url}/portal-api${route}`, {
      method,
      headers: { Authorization: server.vars.ADMIN_TOKEN!, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.ok, `${method} ${route}: ${res.status}`).toBe(true);
    return res.json();
  };
  const post = (type: string, id: number) =>
    fetch(`${server.url}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        Event: type,
        Message: { ID: id, Name: `Org ${id}`, UserID: 1, ByUser: 1, AccessRequestID: 1, AppID: 1, CreatedAt: "2024-04-22T16:38:54Z" },
        Timestamp: new Date().toISOString(),
      }),
    }).then((r) => expect(r.status).toBe(202));
  /** An event of `type` whose Message is `message` (the catalog's types are loose: extra fields pass). */
  const postMessage = (type: string, message: Record<string, unknown>) =>
    fetch(`${server.url}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ Event: type, Message: message, Timestamp: new Date().toISOString() }),
    }).then((r) => expect(r.status).toBe(202));
  const arrivedAt = (path: string) => arrivals.filter((a) => a.path === path);
  /** The most requests that arrived within any one second (a sliding window). */
  /**
   * When each delivery's last attempt started, as the dispatcher recorded it (ms). A rate
   * limit is on these: the way to the receiver adds jitter no sender controls (100 ms and
   * more on a busy machine), so arrivals are checked for order and number, not spacing.
   */
  const startsOf = (rows: { LastAttemptAt: string }[]) => rows.map((d) => Date.parse(d.LastAttemptAt));
  const busiestSecond = (times: number[]) => {
    const sorted = [...times].sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i]! - sorted[j]! >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    return busiest;
  };
  const waitFor = async (path: string, n: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (arrivedAt(path).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return arrivedAt(path);
  };
  /** Every delivery of a channel, through the paged API. */
  const deliveriesOf = async (channelId: string) => {
    const all = [];
    for (let page = 1; ; page++) {
      const rows = await admin("GET", `/webhooks/${channelId}/deliveries?per_page=100&page=${page}`);
      all.push(...rows);
      if (rows.length < 100) return all;
    }
  };

  it("RateLimit 20: all 300 arrive, never more than 20 starting in any one-second window, each in one attempt", async () => {
    const channel = await admin("POST", "/webhooks", { Name: "Limited", URL: `${base}/limited`, Events: ["ApplicationRegistered"], RateLimit: 20 });
    for (let i = 0; i < 300; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => post("ApplicationRegistered", i + k)));
    const got = await waitFor("/limited", 300, 90_000);
    expect(got).toHaveLength(300);
    const rows = await deliveriesOf(channel.ID);
    expect(rows).toHaveLength(300);
    expect(rows.every((d: { Status: string; AttemptCount: number }) => d.Status === "succeeded" && d.AttemptCount === 1)).toBe(true);
    expect(busiestSecond(startsOf(rows))).toBeLessThanOrEqual(20);
  });

  it("Pause, 50 events, resume: nothing arrives while paused, all 50 after, each in one attempt", async () => {
    const channel = await admin("POST", "/webhooks", { Name: "Paused", URL: `${base}/paused`, Events: ["OrganisationRegistered"], Paused: true });
    for (let i = 0; i < 50; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => post("OrganisationRegistered", 1000 + i + k)));
    await new Promise((r) => setTimeout(r, 1500));
    expect(arrivedAt("/paused")).toHaveLength(0);
    const held = await deliveriesOf(channel.ID);
    expect(held.map((d: { Status: string }) => d.Status)).toEqual(Array(50).fill("held"));

    const resumedAt = performance.now();
    await admin("PATCH", `/webhooks/${channel.ID}`, { Paused: false });
    const got = await waitFor("/paused", 50, 30_000);
    expect(got).toHaveLength(50);
    expect(got.every((a) => a.at >= resumedAt)).toBe(true);
    const rows = await deliveriesOf(channel.ID);
    expect(rows.every((d: { Status: string; AttemptCount: number }) => d.Status === "succeeded" && d.AttemptCount === 1)).toBe(true);
  });

  it("RateLimit 1 and a resume: the held deliveries arrive in exactly the order they came in", async () => {
    const channel = await admin("POST", "/webhooks", {
      Name: "One a second",
      URL: `${base}/ordered`,
      Events: ["CredentialRegistered"],
      Paused: true,
      RateLimit: 1,
    });
    // Posted one by one, so their intake order is known.
    for (let i = 0; i < 8; i++) await post("CredentialRegistered", 2000 + i);
    await admin("PATCH", `/webhooks/${channel.ID}`, { Paused: false });
    const got = await waitFor("/ordered", 8, 30_000);
    expect(got.map((a) => a.id)).toEqual([2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007]);
    const starts = startsOf(await deliveriesOf(channel.ID)).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it("RateLimit 5 and 40 held deliveries resumed: in order, never more than 5 starting in a second, drained", async () => {
    const channel = await admin("POST", "/webhooks", { Name: "Five a second", URL: `${base}/paced`, Events: ["RegisterInvite"], Paused: true, RateLimit: 5 });
    // Posted one by one, so their intake order is known.
    for (let i = 0; i < 40; i++) await postMessage("RegisterInvite", { ID: 3000 + i });
    await expect.poll(async () => (await deliveriesOf(channel.ID)).filter((d: { Status: string }) => d.Status === "held").length).toBe(40);

    const resumedAt = performance.now();
    await admin("PATCH", `/webhooks/${channel.ID}`, { Paused: false });
    const got = await waitFor("/paced", 40, 30_000);
    // Each arrival, in ms after the resume: what a failure below is read against.
    const timeline = got.map((a) => `${a.id}@${Math.round(a.at - resumedAt)}`).join(" ");
    expect
      .soft(
        got.map((a) => a.id),
        timeline,
      )
      .toEqual(Array.from({ length: 40 }, (_, i) => 3000 + i));
    const rows = await deliveriesOf(channel.ID);
    expect(rows.every((d: { Status: string; AttemptCount: number }) => d.Status === "succeeded" && d.AttemptCount === 1)).toBe(true);
    // How long the drain takes is the README's figure, measured, not a test's.
    const starts = startsOf(rows);
    const startline = [...starts]
      .sort((a, b) => a - b)
      .map((at) => at - Math.min(...starts))
      .join(" ");
    expect.soft(busiestSecond(starts), `${startline}\narrived: ${timeline}`).toBeLessThanOrEqual(5);
  });

  it("Ordering by Message.ID, two keys, a receiver failing 40%: per key, each event arrives only after the one before it got its final 2xx", async () => {
    // About 40% answered 500, never more than 3 times for one event, so each ends succeeded.
    const failures = new Map<number, number>();
    answers.set("/lanes", ({ Seq }) => {
      const failed = failures.get(Seq!) ?? 0;
      if (failed >= 3 || Math.random() >= 0.4) return 200;
      failures.set(Seq!, failed + 1);
      return 500;
    });
    const channel = await admin("POST", "/webhooks", {
      Name: "Ordered",
      URL: `${base}/lanes`,
      Events: ["AccessRequestCreated"],
      Ordering: { Key: "Message.ID" },
    });
    expect(channel.Ordering).toEqual({ Key: "Message.ID" });
    const EVENTS = 20;
    // Posted one by one, keys alternating, so the order each key's events came in is known.
    for (let seq = 0; seq < EVENTS; seq++) {
      await postMessage("AccessRequestCreated", {
        ID: 1 + (seq % 2),
        Seq: seq,
        AppID: 1,
        ByUser: 1,
        Status: "pending",
        ProductIDs: [1],
        PlanID: 1,
        CreatedAt: "2024-04-22T16:38:54Z",
      });
    }
    const succeeded = () => new Set(arrivedAt("/lanes").flatMap((a) => (a.status < 300 && a.answeredAt !== undefined ? [a.seq] : [])));
    await expect.poll(() => succeeded().size, { timeout: 90_000, interval: 200 }).toBe(EVENTS);

    const got = arrivedAt("/lanes");
    expect(got.filter((a) => a.status === 500).length, "the receiver failed some").toBeGreaterThan(3);
    for (const key of [1, 2]) {
      const lane = got.filter((a) => a.id === key).sort((a, b) => a.at - b.at);
      const posted = Array.from({ length: EVENTS / 2 }, (_, n) => 2 * n + key - 1);
      const firsts = lane.filter((a, n) => lane.findIndex((b) => b.seq === a.seq) === n).map((a) => a.seq);
      expect(firsts, `key ${key}: first arrivals`).toEqual(posted);
      for (const a of lane) {
        const before = posted[posted.indexOf(a.seq!) - 1];
        if (before === undefined) continue;
        const final = lane.findLast((b) => b.seq === before && b.status < 300);
        expect(final, `key ${key}: event ${a.seq} arrived before event ${before} succeeded`).toBeDefined();
        expect(a.at, `key ${key}: event ${a.seq} arrived before event ${before}'s 2xx was answered`).toBeGreaterThanOrEqual(final!.answeredAt!);
      }
    }
    const rows = await deliveriesOf(channel.ID);
    expect(rows).toHaveLength(EVENTS);
    expect(rows.every((d: { Status: string }) => d.Status === "succeeded")).toBe(true);
  });
});

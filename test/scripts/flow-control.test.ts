/**
 * Flow control against a real `wrangler dev` (its queue, its timers) and a real receiver:
 * a rate limit measured in arrival times, and pause, hold and drain.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../scripts/lib/dev-server.mjs";

interface Arrival {
  path: string;
  at: number;
  id: number;
}

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
        arrivals.push({ path: req.url ?? "", at: performance.now(), id: JSON.parse(Buffer.concat(chunks).toString()).Message.ID });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    server = await startDispatcher();
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
  const arrivedAt = (path: string) => arrivals.filter((a) => a.path === path);
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

  it("RateLimit 20: all 300 arrive, never more than 22 in any one-second window, each in one attempt", async () => {
    const channel = await admin("POST", "/webhooks", { Name: "Limited", URL: `${base}/limited`, Events: ["ApplicationRegistered"], RateLimit: 20 });
    for (let i = 0; i < 300; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => post("ApplicationRegistered", i + k)));
    const got = await waitFor("/limited", 300, 90_000);
    expect(got).toHaveLength(300);
    const times = got.map((a) => a.at).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(22);
    // It did not just trickle: 300 at up to 20 a second take 15 to 20 s.
    expect(times.at(-1)! - times[0]!).toBeLessThan(60_000);
    const rows = await deliveriesOf(channel.ID);
    expect(rows).toHaveLength(300);
    expect(rows.every((d: { Status: string; AttemptCount: number }) => d.Status === "succeeded" && d.AttemptCount === 1)).toBe(true);
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
    for (let i = 1; i < got.length; i++) expect(got[i]!.at - got[i - 1]!.at).toBeGreaterThan(900);
  });
});

/**
 * Error responses a person can trace: a request id on every response, the
 * `{"errors": [...]}` shape of a 4xx, a 5xx's reference logged under the same id, and a
 * D1 error left to the one error handler rather than read as a missing channel.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { recordingQueue } from "../doubles";
import { ADMIN, api, appWith, count, createChannel, postEvent, request, target, uniqueUserRegistered } from "../helpers";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON log lines written to `level` while the test ran. */
function logLines(level: "error" | "warn") {
  const spy = vi.spyOn(console, level).mockImplementation(() => {});
  return () => spy.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
}

/** A D1 binding whose every call fails with `message`. */
function failingD1(message: string) {
  const fail = () => Promise.reject(new Error(message));
  const statement = { bind: () => statement, run: fail, all: fail, first: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail };
}

/** The real database, but `batch` (how a channel is read) fails with `message`. */
function d1FailingBatches(message: string) {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") return () => Promise.reject(new Error(message));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

afterEach(() => vi.restoreAllMocks());

describe("errors can be traced", () => {
  it("every response carries X-Request-Id, a fresh one each time", async () => {
    const responses = [
      await request("/healthz"),
      await api("GET", "/portal-api/event-types"),
      await request("/events", { method: "HEAD" }),
      await request("/portal-api/openapi.json"),
      // Responses their handlers build themselves: the events' spliced JSON, a static file.
      await api("GET", "/portal-api/events?per_page=1"),
      await request("/css/base.css"),
    ];
    expect(responses.at(-1)!.headers.get("Content-Type")).toMatch(/^text\/css/);
    const ids = responses.map((res) => res.headers.get("X-Request-Id"));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a 422 keeps the contract's shape and names the request in its header", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "CRM", URL: "https://crm.example.com/x", Events: ["UserRegistered"], Fitler: {} });
    expect(res.status).toBe(422);
    expect(res.headers.get("X-Request-Id")).toMatch(UUID);
    expect(await res.json()).toEqual({ errors: ["Fitler: unknown field"] });
  });

  it("a 404 (an unknown path, a missing delivery) names the request in its header", async () => {
    for (const res of [await request("/nope"), await api("GET", "/portal-api/deliveries/nope")]) {
      expect(res.status).toBe(404);
      expect(res.headers.get("X-Request-Id")).toMatch(UUID);
      expect((await res.json<{ errors: string[] }>()).errors).toHaveLength(1);
    }
  });

  it("a 401 from intake names the request too", async () => {
    const res = await request("/events", { method: "POST", headers: { Authorization: "Bearer wrong", "Content-Type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Request-Id")).toMatch(UUID);
  });

  it("a 500 gives the request id as its reference, and the log line carries the same id", async () => {
    const errors = logLines("error");
    const res = await api("GET", "/portal-api/events", undefined, ADMIN, { DB: failingD1("D1_ERROR: no such table: events") });
    expect(res.status).toBe(500);
    const id = res.headers.get("X-Request-Id");
    expect(id).toMatch(UUID);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: ["server: internal error"], RequestId: id });
    expect(text).not.toContain("no such table");
    expect(errors()).toContainEqual(expect.objectContaining({ level: "error", msg: "unhandled", requestId: id, cause: "D1_ERROR: no such table: events" }));
  });

  it("a 503 while the database is unavailable gives Retry-After and the request id, logged under it", async () => {
    const warnings = logLines("warn");
    const res = await api("GET", "/portal-api/webhooks", undefined, ADMIN, { DB: failingD1("D1_ERROR: D1 DB is overloaded. Requests queued for too long.") });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    const id = res.headers.get("X-Request-Id");
    expect(await res.json()).toEqual({ errors: ["database: unavailable for a moment; try again shortly"], RequestId: id });
    expect(warnings()).toContainEqual(expect.objectContaining({ msg: "database unavailable", requestId: id }));
  });

  it("a database call that fails with the runtime's bare internal error (a locked local database) is a 503 too, not a 500", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await api("GET", "/portal-api/webhooks", undefined, ADMIN, { DB: failingD1("internal error; reference = 0123abcd") });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
  });

  it("intake's 503 (neither D1 nor the storing queue takes the event) names the request, and its log lines carry it", async () => {
    const errors = logLines("error");
    logLines("warn");
    const refusing = { send: () => Promise.reject(new Error("queue unavailable")), sendBatch: () => Promise.reject(new Error("queue unavailable")) };
    const body = uniqueUserRegistered();
    const res = await postEvent(
      body,
      {},
      {
        DB: failingD1("D1_ERROR: D1 DB is overloaded. Requests queued for too long."),
        STORING: refusing,
        DELIVERIES: recordingQueue(),
      },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("30");
    const id = res.headers.get("X-Request-Id");
    expect(id).toMatch(UUID);
    expect(await res.json()).toEqual({ errors: ["server: the event could not be stored now; send it again later"], RequestId: id });
    expect(errors()).toContainEqual(expect.objectContaining({ msg: "D1 could not take an event", requestId: id }));
    expect(await count("events", "body = ?", body)).toBe(0);
  });

  it("keeps a request id the caller sent (a proxy's), and replaces one that is not a plain token", async () => {
    const kept = await request("/nope", { headers: { "X-Request-Id": "edge-1234_abc" } });
    expect(kept.headers.get("X-Request-Id")).toBe("edge-1234_abc");
    const replaced = await request("/nope", { headers: { "X-Request-Id": 'x" injected' } });
    expect(replaced.headers.get("X-Request-Id")).toMatch(UUID);
  });
});

describe("POST /portal-api/deliveries/{id}/redeliver, when the channel cannot be read", () => {
  async function oneDelivery() {
    const channel = await createChannel({ URL: target("ok") });
    const { post } = appWith({ DELIVERIES: recordingQueue() });
    expect((await post(uniqueUserRegistered())).status).toBe(202);
    const row = await env.DB.prepare("select id from deliveries where channel_id = ?").bind(channel.ID).first<{ id: string }>();
    return { channel, deliveryId: row!.id };
  }

  it("answers 409 when the webhook was deleted", async () => {
    const { channel, deliveryId } = await oneDelivery();
    expect((await api("DELETE", `/portal-api/webhooks/${channel.ID}`)).status).toBe(200);
    const res = await appWith({ DELIVERIES: recordingQueue() }).call("POST", `/portal-api/deliveries/${deliveryId}/redeliver`);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ errors: ["WebhookID: the webhook was deleted"] });
  });

  it("leaves a D1 error to the error handler: a 503 or a 500, never 409 'deleted'", async () => {
    const { deliveryId } = await oneDelivery();
    logLines("warn");
    logLines("error");
    const path = `/portal-api/deliveries/${deliveryId}/redeliver`;

    const busy = await api("POST", path, undefined, ADMIN, {
      DELIVERIES: recordingQueue(),
      DB: d1FailingBatches("D1_ERROR: D1 DB is overloaded. Requests queued for too long."),
    });
    expect(busy.status).toBe(503);
    expect(busy.headers.get("Retry-After")).toBe("5");

    const broken = await api("POST", path, undefined, ADMIN, { DELIVERIES: recordingQueue(), DB: d1FailingBatches("D1_ERROR: no such column: paused") });
    expect(broken.status).toBe(500);
    expect(await broken.json()).toEqual({ errors: ["server: internal error"], RequestId: broken.headers.get("X-Request-Id") });
    expect(await count("deliveries", "id = ? and generation = 0", deliveryId)).toBe(1);
  });
});

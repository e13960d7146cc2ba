import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject, vi } from "vitest";
import { app } from "../src/app";
import { timeOrderedId } from "../src/db/ids";
import type { DeliveryMessage } from "../src/db/records";
import entry from "../src/index";
import { sweep } from "../src/sweeper/sweep";
import seedPayloads from "./fixtures/seed-payloads.json";
import type { Received } from "./receiver";

/** The portal's 13 sample payloads, byte for byte as its documentation prints them. */
export const seed = seedPayloads as { type: string; body: string }[];

export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
export const INTAKE = { Authorization: `Bearer ${env.INTAKE_TOKEN}` };

/** Bindings a test puts in place of the worker's own (a queue that records, a D1 that fails, a var). */
export type Bindings = Record<string, unknown>;

/**
 * The one way the tests call the worker over HTTP. Without `bindings`, the worker itself
 * (`exports.default.fetch`: its own env, its background work run by the runtime); with
 * them, the same app on the worker's env with those replaced, without an execution context
 * (background work goes on unawaited).
 */
export function request(path: string, init: RequestInit = {}, bindings?: Bindings): Promise<Response> {
  const url = `https://dispatcher.test${path}`;
  if (bindings) return Promise.resolve(app.request(url, init, { ...env, ...bindings }));
  return exports.default.fetch(new Request(url, init));
}

/** An admin API call with a JSON body (a string is sent as it is). */
export function api(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN, bindings?: Bindings) {
  return request(
    path,
    {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    },
    bindings,
  );
}

/** A portal event posted to intake (INTAKE_TOKEN, JSON). */
export function postEvent(body: BodyInit, headers: Record<string, string> = {}, bindings?: Bindings) {
  return request("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json", ...headers }, body }, bindings);
}

export interface ChannelJson {
  ID: string;
  Name: string;
  URL: string;
  Method: string;
  Timeout: number;
  Events: string[];
  Headers: { ID: string; Name: string; Value: string }[];
  Enabled: boolean;
  DisabledReason: string | null;
  CreatedAt: string;
  UpdatedAt: string;
}

export async function createChannel(fields: Record<string, unknown> = {}): Promise<ChannelJson> {
  const res = await api("POST", "/portal-api/webhooks", {
    Name: "CRM",
    URL: "https://crm.example.com/hooks/tyk",
    Events: ["UserRegistered"],
    ...fields,
  });
  if (res.status !== 201) throw new Error(`createChannel: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A fresh path on the test receiver; `kind` picks its behaviour (see receiver.ts). */
export function target(kind = "ok"): string {
  return `http://127.0.0.1:${inject("receiverPort")}/${kind}/${crypto.randomUUID()}`;
}

export async function receivedAt(url: string): Promise<Received[]> {
  const { pathname, port } = new URL(url);
  const res = await fetch(`http://127.0.0.1:${port}/__requests?prefix=${encodeURIComponent(pathname)}`);
  return res.json();
}

export async function count(table: string, where = "1 = 1", ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`select count(*) as n from ${table} where ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row!.n;
}

/** A payload no test has posted before, so dedupe by body never short-cuts. */
export function uniqueUserRegistered(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Event: "UserRegistered",
    Message: {
      ID: Math.floor(Math.random() * 1e9),
      Email: `${crypto.randomUUID()}@example.com`,
      First: "Ada",
      Last: "Lovelace",
      OrgID: 1,
      Provider: "password",
      Status: "active",
      CreatedAt: "2024-04-22T16:38:54.068565+02:00",
      ByUser: 1,
      CustomAttributes: [],
      ...extra,
    },
    Timestamp: new Date().toISOString(),
  });
}

/** `api` and `postEvent` with the same `bindings` each time, and the env they make. */
export function appWith(bindings: Bindings) {
  const call = (method: string, path: string, body?: unknown) => api(method, path, body, ADMIN, bindings);
  const post = (body: string) => postEvent(body, {}, bindings);
  return { call, post, env: { ...env, ...bindings } };
}

/** An event and its delivery to `channelId`, created at `now`, written straight to D1 (no queue message). */
export async function makeDelivery(channelId: string, body = uniqueUserRegistered(), now = Date.now()) {
  const eventId = timeOrderedId(now);
  // As intake makes it (src/db/ids.ts): its event's time and counter, then random bits.
  const deliveryId = `${eventId.slice(0, 23)}${timeOrderedId(now).slice(23)}`;
  await env.DB.batch([
    env.DB.prepare("insert into events (id, type, body, received_at) values (?, 'UserRegistered', ?, ?)").bind(eventId, body, now),
    env.DB.prepare(
      "insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at) values (?, ?, ?, 'UserRegistered', 'pending', ?, ?, ?)",
    ).bind(deliveryId, eventId, channelId, now, now, now),
  ]);
  return { eventId, deliveryId, body };
}

/**
 * The one way the tests hand the worker a queue batch: `bodies` as messages of `queue`
 * (one attempt each unless `attempts` says otherwise), the worker's queue handler run on
 * them with the worker's env and `bindings`, and what it did with each message.
 */
export async function runQueue<Body>(queue: string, bodies: Body[], bindings: Bindings = {}, attempts: number[] = []) {
  const batch = createMessageBatch<Body>(
    queue,
    bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(), attempts: attempts[i] ?? 1, body })),
  );
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await (entry as unknown as { queue: ExportedHandlerQueueHandler<typeof env, Body> }).queue(batch, { ...env, ...bindings } as typeof env, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    acked: result.explicitAcks,
    /** The whole batch acked at once (ackAll). */
    ackedAll: result.ackAll,
    retried: result.retryMessages.map((m: { msgId: string }) => m.msgId),
    /** The whole batch retried at once (retryAll), with its delay. */
    retriedBatch: result.retryBatch,
    delays: retries.map((spy) => spy.mock.calls[0]?.[0]?.delaySeconds),
  };
}

/**
 * Runs the queue consumer on one message per id, as Queues would, and reports what it
 * decided. Each message carries the delivery's current generation, as the newest one does.
 */
export async function consume(ids: string[], bindings: Bindings = {}, generations?: number[], extra?: Partial<DeliveryMessage>[]) {
  const current = new Map(
    (
      await env.DB.prepare("select id, channel_id as channelId, generation from deliveries").all<{ id: string; channelId: string; generation: number }>()
    ).results.map((r) => [r.id, r]),
  );
  const bodies = ids.map((deliveryId, i) => ({
    deliveryId,
    channelId: current.get(deliveryId)?.channelId,
    generation: generations?.[i] ?? current.get(deliveryId)?.generation ?? 0,
    ...extra?.[i],
  }));
  return runQueue<DeliveryMessage>("tyk-webhook-deliveries", bodies, bindings);
}

export async function delivery(id: string) {
  return env.DB.prepare("select * from deliveries where id = ?").bind(id).first<any>();
}

/** The delivery's attempt log as stored in its row, with the columns' names. */
export async function attemptsOf(id: string) {
  const { results } = await env.DB.prepare(
    `select a.value->>'attempt' as attempt, a.value->>'startedAt' as started_at, a.value->>'durationMs' as duration_ms,
            a.value->>'statusCode' as status_code, a.value->>'error' as error, a.value->>'responseBody' as response_body
     from deliveries, json_each(deliveries.attempts) as a where deliveries.id = ? order by a.key`,
  )
    .bind(id)
    .all<any>();
  return results;
}

/** Time passes: the delivery's next attempt is due now. */
export async function makeDue(id: string) {
  await env.DB.prepare("update deliveries set next_attempt_at = ? where id = ?").bind(Date.now(), id).run();
}

/** The list of a `{"errors": [...]}` answer. */
export const errorsOf = async (res: Response) => (await res.json<{ errors: string[] }>()).errors;

/**
 * The cron job (the worker's `scheduled`, src/sweeper/sweep.ts) run once on the worker's
 * env with `bindings` replaced, as at `now`; what it did.
 */
export const runSweep = (bindings: Bindings = {}, now = Date.now()) => sweep({ ...env, ...bindings } as typeof env, now);

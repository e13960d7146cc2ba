import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject, vi } from "vitest";
import { app } from "../src/app";
import { timeOrderedId } from "../src/db/ids";
import type { DeliveryMessage } from "../src/db/records";
import entry from "../src/index";
import seedPayloads from "./fixtures/seed-payloads.json";
import type { Received } from "./receiver";

/** The portal's 13 sample payloads, byte for byte as its documentation prints them. */
export const seed = seedPayloads as { type: string; body: string }[];

export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
export const INTAKE = { Authorization: `Bearer ${env.INTAKE_TOKEN}` };

/** Bindings a test puts in place of the worker's own (a queue that records, a D1 that fails, a var). */
export type Bindings = Record<string, unknown>;

/**
 * The one way the tests call the worker over HTTP. Without `bindings`, the worker as
 * deployed (its own env, background work run by the runtime); with them, the same app on
 * the worker's env with those replaced.
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
export function postEvent(body: string, headers: Record<string, string> = {}, bindings?: Bindings) {
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

/** A queue that records what was sent instead of delivering it. */
export function recordingQueue(fail = false) {
  const sent: { body: { deliveryId: string }; delaySeconds?: number }[][] = [];
  const queue = {
    async send() {
      throw new Error("use sendBatch");
    },
    async sendBatch(messages: Iterable<{ body: { deliveryId: string }; delaySeconds?: number }>) {
      if (fail) throw new Error("queue unavailable");
      sent.push([...messages]);
    },
    get ids() {
      return sent.flat().map((m) => m.body.deliveryId);
    },
    sent,
  };
  return queue;
}

/**
 * Wraps a D1 database and counts round trips (each batch, exec, and each statement run on
 * its own) and the rows written that D1 reports, and keeps every statement run, with its
 * parameters.
 */
export function countingD1(db: D1Database, options: { readsOfRaw?: boolean } = {}) {
  const counter = { roundTrips: 0, rowsWritten: 0, rowsRead: 0, statements: [] as Run[] };
  /** Adds up what D1 reports, and gives each statement run the rows it read and touched. */
  const tally =
    (run: Run[]) =>
    <T>(result: T): T => {
      const results = Array.isArray(result) ? result : [result];
      results.forEach((r, i) => {
        const meta = (r as D1Result)?.meta;
        counter.rowsWritten += meta?.rows_written ?? 0;
        counter.rowsRead += meta?.rows_read ?? 0;
        if (run[i] && meta) Object.assign(run[i], { rowsRead: meta.rows_read, changed: meta.changes, returned: (r as D1Result).results?.length ?? 0 });
      });
      return result;
    };
  const wrapStatement = (stmt: D1PreparedStatement, sql: string, args: unknown[] = []): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop, receiver) {
        if (prop === UNWRAP) return target;
        if (prop === STATEMENT) return { sql, args };
        if (prop === "bind") return (...bound: unknown[]) => wrapStatement(target.bind(...bound), sql, bound);
        if (prop === "raw" && options.readsOfRaw) {
          // raw() (drizzle's way to run a query) answers no meta: a read runs again as
          // all() for its figures; a write runs as all(), its rows turned into arrays.
          return async (...rest: unknown[]) => {
            counter.roundTrips++;
            const run = { sql, args };
            counter.statements.push(run);
            if (/^\s*select\b/i.test(sql)) {
              const rows = await target.raw(...(rest as []));
              tally([run])(await target.all());
              return rows;
            }
            const result = tally([run])(await target.all<Record<string, unknown>>());
            return result.results.map((row) => Object.values(row));
          };
        }
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...rest: unknown[]) => {
            counter.roundTrips++;
            const run = { sql, args };
            counter.statements.push(run);
            // first() and raw() answer rows without D1's meta: only run() and all() count reads.
            return Promise.resolve((target as any)[prop](...rest)).then(prop === "run" || prop === "all" ? tally([run]) : (r: unknown) => r);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query), query);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counter.roundTrips++;
          // One entry per statement, in order, for D1's figures; only the wrapped ones are kept.
          const run = statements.map((s) => ({ ...((s as any)[STATEMENT] ?? { sql: "", args: [] }) }));
          counter.statements.push(...run.filter((r) => r.sql));
          // Hand D1 its own statements back.
          return target.batch(statements.map((s) => (s as any)[UNWRAP] ?? s)).then(tally(run));
        };
      }
      if (prop === "exec") {
        return (query: string) => {
          counter.roundTrips++;
          return target.exec(query);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapped, counter };
}
/** A statement run through countingD1: D1's figures for it once it answered. */
type Run = { sql: string; args: unknown[]; rowsRead?: number; changed?: number; returned?: number };
const STATEMENT = Symbol("statement");
const UNWRAP = Symbol("unwrap");

// The worker as Queues calls it, with an execution context.
export const worker = entry as { queue: ExportedHandlerQueueHandler<typeof env, DeliveryMessage> };

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

/** The sequencer binding, counting how many times a channel's sequencer is asked for. */
export function countingSequencer() {
  const counter = { asked: 0 };
  const binding = new Proxy(env.SEQUENCER, {
    get(target, prop) {
      if (prop === "get") counter.asked++;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { binding, counter };
}

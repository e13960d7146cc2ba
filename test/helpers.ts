import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import seedPayloads from "./fixtures/seed-payloads.json";
import type { Received } from "./receiver";

/** The portal's 13 sample payloads, byte for byte as its documentation prints them. */
export const seed = seedPayloads as { type: string; body: string }[];

export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
export const INTAKE = { Authorization: `Bearer ${env.INTAKE_TOKEN}` };

export function request(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`https://dispatcher.test${path}`, init));
}

/** An admin API call with a JSON body. */
export function api(method: string, path: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  return request(path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function postEvent(body: string, headers: Record<string, string> = {}) {
  return request("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json", ...headers }, body });
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
  const row = await env.DB.prepare(`select count(*) as n from ${table} where ${where}`).bind(...params).first<{ n: number }>();
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
 * its own) and the rows written that D1 reports.
 */
export function countingD1(db: D1Database) {
  const counter = { roundTrips: 0, rowsWritten: 0 };
  const tally = <T>(result: T): T => {
    for (const r of Array.isArray(result) ? result : [result]) counter.rowsWritten += (r as D1Result)?.meta?.rows_written ?? 0;
    return result;
  };
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop, receiver) {
        if (prop === UNWRAP) return target;
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => {
            counter.roundTrips++;
            return Promise.resolve((target as any)[prop](...args)).then(tally);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          counter.roundTrips++;
          // Hand D1 its own statements back.
          return target.batch(statements.map((s) => (s as any)[UNWRAP] ?? s)).then(tally);
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
const UNWRAP = Symbol("unwrap");

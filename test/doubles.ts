import { env } from "cloudflare:workers";

/*
 * Stand-ins for the worker's bindings, to put in place of its own with `request(…, bindings)`,
 * `runQueue` or `consume`: a queue that records, a D1 that counts, a sequencer that counts.
 */

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

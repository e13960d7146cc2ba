/*
 * Fault injection for D1, for tests and the soak only: nothing in src/ imports it. It
 * wraps a D1 binding so that a share of its calls fail, or all of them for a window (an
 * outage), with the errors D1 documents as transient
 * (https://developers.cloudflare.com/d1/best-practices/retry-queries/). Half of the
 * single failures happen after the call ran: D1 committed, but the caller hears
 * "Network connection lost", the case that makes a retried write apply twice unless it
 * is idempotent.
 */

/** What fails: a share of calls (0 to 1), and everything until `outageUntil` (ms since the epoch). */
export interface FaultPlan {
  share: number;
  outageUntil: number;
  /** Calls failed so far, by how: before they ran, after they ran, in the outage. */
  failed: { before: number; after: number; outage: number };
}

export const newFaultPlan = (share = 0): FaultPlan => ({ share, outageUntil: 0, failed: { before: 0, after: 0, outage: 0 } });

const OVERLOADED = "D1_ERROR: D1 DB is overloaded. Requests queued for too long.";
const LOST = "D1_ERROR: Network connection lost.";
const UNWRAP = Symbol("unwrap");

/** Runs `call` as the plan says: not at all (an error), or and then fails, or plainly. */
async function faulty<T>(plan: FaultPlan, call: () => Promise<T>): Promise<T> {
  if (Date.now() < plan.outageUntil) {
    plan.failed.outage++;
    throw new Error(OVERLOADED);
  }
  const roll = Math.random();
  if (roll < plan.share / 2) {
    plan.failed.before++;
    throw new Error(LOST);
  }
  const result = await call();
  if (roll < plan.share) {
    plan.failed.after++;
    throw new Error(LOST);
  }
  return result;
}

function wrapStatement(stmt: D1PreparedStatement, plan: FaultPlan): D1PreparedStatement {
  return new Proxy(stmt, {
    get(target, prop) {
      if (prop === UNWRAP) return target;
      if (prop === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args), plan);
      if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
        return (...args: unknown[]) => faulty(plan, () => (target as any)[prop](...args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The binding `db` with the plan's faults (the plan can change while it is in use). */
export function faultyD1(db: D1Database, plan: FaultPlan): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query), plan);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => faulty(plan, () => target.batch(statements.map((s) => (s as any)[UNWRAP] ?? s)));
      }
      if (prop === "exec") return (query: string) => faulty(plan, () => target.exec(query));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

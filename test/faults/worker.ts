/*
 * A test-only entry: the dispatcher exactly as src/index.ts exports it, with its D1 binding
 * wrapped by test/faults/faulty-d1.ts. Used by `npm run soak -- --d1-faults` (wrangler dev
 * runs this file instead of src/index.ts); production never loads it.
 *
 * `D1_FAULT_SHARE` (a var, 0 to 1) fails that share of D1 calls from the start;
 * `POST /__faults {"share"?, "outageSeconds"?}` with the admin token changes it and starts
 * an outage of that many seconds; `GET /__faults` tells what failed so far.
 */
import type { Env } from "../../src/core/env";
import dispatcher from "../../src/index";
import { type FaultPlan, faultyD1, newFaultPlan } from "./faulty-d1";

export { ParkedBodies, Sequencer } from "../../src/index";

type FaultEnv = Env & { D1_FAULT_SHARE?: string };

let plan: FaultPlan | undefined;
const wrapped = new WeakMap<D1Database, D1Database>();

/** The env with the faulty D1: one wrapper per binding, so drizzle's per-binding cache holds. */
function withFaults(env: FaultEnv): Env {
  plan ??= newFaultPlan(Number(env.D1_FAULT_SHARE ?? 0));
  const db = wrapped.get(env.DB) ?? faultyD1(env.DB, plan);
  wrapped.set(env.DB, db);
  return { ...env, DB: db };
}

export default {
  async fetch(request: Request, env: FaultEnv, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname === "/__faults") {
      if (request.headers.get("Authorization") !== `Bearer ${env.ADMIN_TOKEN}`) return new Response("no", { status: 401 });
      withFaults(env);
      if (request.method === "POST") {
        const { share, outageSeconds } = await request.json<{ share?: number; outageSeconds?: number }>();
        if (share !== undefined) plan!.share = share;
        if (outageSeconds !== undefined) plan!.outageUntil = Date.now() + outageSeconds * 1000;
      }
      return Response.json({ share: plan!.share, outageUntil: plan!.outageUntil, failed: plan!.failed });
    }
    return dispatcher.fetch(request, withFaults(env), ctx);
  },
  async queue(batch: MessageBatch<unknown>, env: FaultEnv) {
    return dispatcher.queue(batch as MessageBatch<never>, withFaults(env));
  },
  async scheduled(controller: ScheduledController, env: FaultEnv, ctx: ExecutionContext) {
    return dispatcher.scheduled(controller, withFaults(env), ctx);
  },
} satisfies ExportedHandler<FaultEnv>;

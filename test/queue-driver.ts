import { env } from "cloudflare:workers";
import type { DeliveryMessage } from "../src/db/records";
import { runQueue } from "./helpers";

/**
 * A deliveries queue run in the test, as Queues would run it: messages are handed to the
 * real consumer in batches of up to 10, at most `concurrency` batches at once, each when
 * its delay is over (real time); a message the consumer retries comes back after its
 * delay, and what the consumer sends (`sendBatch`) joins the queue. `drop()` loses every
 * message not yet handed over, as a restart of `wrangler dev` does.
 */
export function testQueue(bindings: Record<string, unknown> = {}, concurrency = 2) {
  let waiting: { body: DeliveryMessage; due: number }[] = [];
  const running = new Set<Promise<void>>();
  let sent = 0;
  const perDelivery = new Map<string, number>();
  const binding = {
    async send(body: DeliveryMessage, options?: { delaySeconds?: number }) {
      add(body, options?.delaySeconds);
    },
    async sendBatch(messages: Iterable<{ body: DeliveryMessage; delaySeconds?: number }>) {
      for (const m of messages) add(m.body, m.delaySeconds);
    },
  };
  function add(body: DeliveryMessage, delaySeconds = 0) {
    sent++;
    perDelivery.set(body.deliveryId, (perDelivery.get(body.deliveryId) ?? 0) + 1);
    waiting.push({ body, due: Date.now() + delaySeconds * 1000 });
  }

  async function runBatch(bodies: DeliveryMessage[]) {
    const result = await runQueue("tyk-webhook-deliveries", bodies, { ...bindings, DELIVERIES: binding });
    if (result.retriedBatch.retry) {
      for (const body of bodies) add(body, result.retriedBatch.delaySeconds ?? 0);
      return;
    }
    bodies.forEach((body, i) => {
      if (result.retried.includes(`msg-${i}`)) add(body, result.delays[i] ?? 0);
    });
  }

  return {
    binding,
    /** The test's `bindings` with this queue, for `runSweep`, `request` and the like. */
    bindings: { ...bindings, DELIVERIES: binding },
    /** The worker's env with those bindings. */
    env: { ...env, ...bindings, DELIVERIES: binding } as unknown as typeof env,
    add,
    /** Messages sent to the queue so far (by the test and by the worker), and per delivery. */
    get sent() {
      return sent;
    },
    perDelivery,
    /** Loses every message waiting (a restart). */
    drop() {
      waiting = [];
    },
    /**
     * Runs until no message is waiting, or `until()` holds, or `timeoutMs` passes. Batches
     * take the due messages in the order they were sent, as a queue hands them over. When
     * `until()` holds, batches still running go on (`idle()` waits for them).
     */
    async run({ timeoutMs = 60_000, until }: { timeoutMs?: number; until?: () => boolean | Promise<boolean> } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (until && (await until())) return;
        const now = Date.now();
        const due = waiting.filter((w) => w.due <= now).slice(0, 10);
        if (due.length && running.size < concurrency) {
          waiting = waiting.filter((w) => !due.includes(w));
          const p = runBatch(due.map((d) => d.body)).finally(() => running.delete(p));
          running.add(p);
          continue;
        }
        if (!waiting.length && !running.size) break;
        const next = Math.min(...waiting.map((w) => w.due), now + 50);
        await Promise.race([...running, new Promise((r) => setTimeout(r, Math.max(1, next - now)))]);
      }
      await Promise.all(running);
    },
    /** Waits for the batches still running. */
    idle: () => Promise.all(running),
  };
}

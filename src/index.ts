import { app } from "./app";
import { consumeDeadLetters, consumeDeliveries } from "./delivery/consumer";
import type { DeliveryMessage } from "./delivery/message";
import { type Config, config, type Env } from "./env";
import type { ParkedEvent } from "./intake/parked";
import { storeParked } from "./intake/store-parked";
import { sweep } from "./sweeper/sweep";

const CONFIG_RETRY_SECONDS = 30;

export { RateLimiter } from "./flow/rate-limiter";
export { ParkedBodies } from "./intake/parked-bodies";

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    let queues: Config["queues"];
    try {
      queues = config(env).queues;
    } catch {
      // A bad var (logged by config()) holds every batch back rather than act on a guess.
      batch.retryAll({ delaySeconds: CONFIG_RETRY_SECONDS });
      return;
    }
    // One worker consumes every queue, told apart by their configured names.
    if (batch.queue === queues.deliveries) return consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env);
    if (batch.queue === queues.deadLetters) return consumeDeadLetters(batch as MessageBatch<DeliveryMessage>, env);
    if (batch.queue === queues.store) return storeParked(batch as MessageBatch<ParkedEvent>, env);
    throw new Error(
      `queue ${batch.queue}: not ${queues.deliveries}, ${queues.deadLetters} or ${queues.store} (set DELIVERY_QUEUE, DEAD_LETTER_QUEUE and STORE_QUEUE)`,
    );
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage | ParkedEvent>;

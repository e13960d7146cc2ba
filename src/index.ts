import { app } from "./app";
import { consumeDeadLetters, consumeDeliveries } from "./delivery/consumer";
import type { DeliveryMessage } from "./delivery/message";
import { type Config, config, type Env } from "./env";
import { sweep } from "./sweeper/sweep";

const CONFIG_RETRY_SECONDS = 30;

export { RateLimiter } from "./flow/rate-limiter";

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
    // One worker consumes both queues, told apart by their configured names.
    if (batch.queue === queues.deliveries) return consumeDeliveries(batch, env);
    if (batch.queue === queues.deadLetters) return consumeDeadLetters(batch, env);
    throw new Error(`queue ${batch.queue}: not ${queues.deliveries} or ${queues.deadLetters} (set DELIVERY_QUEUE and DEAD_LETTER_QUEUE)`);
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;

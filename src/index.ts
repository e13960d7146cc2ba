import { app } from "./app";
import { consumeDeadLetters, consumeDeliveries } from "./delivery/consumer";
import type { DeliveryMessage } from "./delivery/message";
import { sweep } from "./delivery/sweeper";
import type { Env } from "./env";

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    // One worker consumes both queues; the dead-letter queue's name ends in "-dlq".
    if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env);
    else await consumeDeliveries(batch, env);
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;

import { app } from "./app";
import { type Config, config, type Env, storingQueues } from "./core/env";
import type { DeliveryMessage, ParkedEvent } from "./db/records";
import { consumeDeliveries } from "./delivery/consumer";
import { consumeDeadLetters } from "./delivery/dead-letters";
import { keepDeadLetteredEvents } from "./intake/store-dead-letters";
import { storeParked } from "./intake/store-parked";
import { sweep } from "./sweeper/sweep";

const CONFIG_RETRY_SECONDS = 30;

export { Sequencer } from "./flow/sequencer";
export { ParkedBodies } from "./intake/parked-bodies";

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    // Parked events exist only in their messages and need no var: a bad one must not hold
    // them back until their retries run out.
    const storing = storingQueues(env);
    if (batch.queue === storing.store) return storeParked(batch as MessageBatch<ParkedEvent>, env);
    if (batch.queue === storing.storeDeadLetters) return keepDeadLetteredEvents(batch as MessageBatch<ParkedEvent>, env);
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
    throw new Error(
      `queue ${batch.queue}: not ${queues.deliveries}, ${queues.deadLetters} or ${queues.store} (nor its dead letters' ${queues.storeDeadLetters}; set DELIVERY_QUEUE, DEAD_LETTER_QUEUE, STORE_QUEUE and STORE_DEAD_LETTER_QUEUE)`,
    );
  },

  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage | ParkedEvent>;

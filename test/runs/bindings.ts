import { env } from "cloudflare:workers";
import { recordingQueue } from "../doubles";

/* Shared by the runs tests: the bindings they run the worker with. */

/** Three attempts in all: the first and two retries, a second apart. */
export const SCHEDULE = { RETRY_SCHEDULE: "1,1" };

/** The worker's bindings with a queue that refuses: what the sweeper commits stays in D1 only. */
export const refusingEnv = () => ({ ...env, DELIVERIES: recordingQueue(true) as unknown as Queue });

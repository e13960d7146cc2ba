import type { RequestIdVariables } from "hono/request-id";
import { z } from "zod";
import type { DeliveryMessage, Park, ParkedEvent } from "../db/records";
import { DELIVERY_QUEUE_MAX_RETRIES, RESERVED_RETRIES, retriesForSchedule, SCHEDULE_RETRY_BUDGET } from "../retry/budget";
import { ConfigError } from "./errors";
import { log } from "./log";

/*
 * The Durable Objects' methods as their callers see them. Declared here, below the classes
 * (src/flow/sequencer.ts, src/intake/parked-bodies.ts implement them), so that the
 * bindings do not import the folders that use the bindings.
 */

/** One per channel with `RateLimit` or `Ordering`: paced start times and lane wake-ups. */
export interface SequencerApi extends Rpc.DurableObjectBranded {
  /** Start times (unix ms) for `ids` at `limit` requests per second, in order. */
  pace(ids: string[], limit: number): Promise<number[]>;
  /** Records parked and ended lane deliveries; returns the messages of the deliveries it woke. */
  settle(channelId: string, parked: Park[], ended: { lane: string; id: string }[]): DeliveryMessage[];
}

/** One per event whose body is too large for a storing queue message: the bytes, kept until stored. */
export interface ParkedBodiesApi extends Rpc.DurableObjectBranded {
  keep(bytes: ArrayBuffer): Promise<void>;
  read(): Promise<ArrayBuffer | null>;
  forget(): Promise<void>;
}

/** The worker's bindings, as wrangler.toml and the secrets declare them. */
export interface Env {
  DB: D1Database;
  DELIVERIES: Queue<DeliveryMessage>;
  /** Events accepted while D1 could not take them, to be stored (src/intake/parked.ts). */
  STORING: Queue<ParkedEvent>;
  /** Parked events the storing consumer failed on too often: kept, tried hourly (src/intake/store-dead-letters.ts). */
  STORING_DEAD_LETTERS: Queue<ParkedEvent>;
  /** Bodies of parked events too large for a queue message, one object per event. */
  PARKED_BODIES: DurableObjectNamespace<ParkedBodiesApi>;
  ASSETS: Fetcher;
  SEQUENCER: DurableObjectNamespace<SequencerApi>;
  ADMIN_TOKEN?: string;
  INTAKE_TOKEN?: string;
  ENCRYPTION_KEY?: string;
  /** The key before a rotation: still decrypts until the sweeper has re-encrypted everything. */
  ENCRYPTION_KEY_PREVIOUS?: string;
  ALLOW_PRIVATE_TARGETS?: string;
  RETRY_SCHEDULE?: string;
  RETENTION_DAYS?: string;
  /** Seconds past due after which a pending, then a retrying, delivery counts as lost. */
  LOST_AFTER_SECONDS?: string;
  /** The names of the queues this worker consumes (a deployment may rename them). */
  DELIVERY_QUEUE?: string;
  DEAD_LETTER_QUEUE?: string;
  STORE_QUEUE?: string;
  STORE_DEAD_LETTER_QUEUE?: string;
  /** The portal's address, for links in chat-format messages (optional). */
  PORTAL_URL?: string;
}

/** What every Hono app and handler of this worker sees: the bindings, and the request id (hono/request-id). */
export type AppEnv = { Bindings: Env; Variables: RequestIdVariables };

// The storing queues' names as wrangler.toml has them; `npm run deploy -- --name X` sets its own.
const STORE_QUEUE = "tyk-webhook-events-to-store";
const STORE_DEAD_LETTER_QUEUE = "tyk-webhook-events-to-store-dlq";

/**
 * The storing queues' names, read without the rest of the config: parked events need no
 * other var, and a bad one must not hold them back until their retries run out.
 */
export const storingQueues = (env: Env) => ({
  store: env.STORE_QUEUE || STORE_QUEUE,
  storeDeadLetters: env.STORE_DEAD_LETTER_QUEUE || STORE_DEAD_LETTER_QUEUE,
});

const seconds = z
  .string()
  .regex(/^\d+$/, "must be whole seconds")
  .transform(Number)
  .pipe(z.number().max(7 * 24 * 3600, "must be at most 604800 (7 days)"));

/** "5, 300, 1800" → [5, 300, 1800]; an empty item is an error, not a zero. */
const secondsList = (min: number, max: number) =>
  z
    .string()
    .transform((text) => text.split(",").map((item) => item.trim()))
    .pipe(z.array(z.string().min(1, "has an empty item").pipe(seconds)).min(min, `needs at least ${min} item(s)`).max(max, `takes at most ${max} items`));

/**
 * The retry schedule: at most 40 waits, each at most 7 days, and all of them together
 * within the queue retries the deliveries queue gives a message (src/retry/budget.ts):
 * each wait spends max(2, ⌈1.2 × seconds ÷ 43200⌉), 80 in all. 40 is what that allows
 * when every wait takes the minimum 2.
 */
const retrySchedule = secondsList(1, SCHEDULE_RETRY_BUDGET / 2).superRefine((schedule, ctx) => {
  // An item that is not seconds is reported already; the sum would say nothing more.
  if (!schedule.every(Number.isFinite)) return;
  const spent = retriesForSchedule(schedule);
  if (spent <= SCHEDULE_RETRY_BUDGET) return;
  ctx.addIssue({
    code: "custom",
    message:
      `takes up to ${spent} queue retries, more than the ${SCHEDULE_RETRY_BUDGET} a delivery has ` +
      `(max_retries ${DELIVERY_QUEUE_MAX_RETRIES}, ${RESERVED_RETRIES} kept for crashes): each wait spends one retry per 12 h of it, ` +
      "counting 20% jitter, and at least 2 (a Retry-After may stretch it to 24 h); shorten the schedule",
  });
});

/**
 * Every var, its default and its rules, in one place. A bad value fails loudly (every
 * request answers 503 naming it) rather than running with a guess, such as no retries.
 */
const vars = z.object({
  ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).default("false"),
  RETRY_SCHEDULE: retrySchedule.prefault("5,300,1800,7200,18000,36000,36000"),
  RETENTION_DAYS: z
    .string()
    .regex(/^\d+$/, "must be a whole number of days")
    .transform(Number)
    .pipe(z.number().min(1, "must be at least 1").max(3650, "must be at most 3650"))
    .prefault("30"),
  LOST_AFTER_SECONDS: secondsList(2, 2)
    .refine((pair) => pair.every((n) => n > 0), "must be two positive numbers of seconds: pending, retrying")
    .prefault("120,300"),
  // As named in wrangler.toml; `npm run deploy -- --name X` sets its own.
  DELIVERY_QUEUE: z.string().min(1).default("tyk-webhook-deliveries"),
  DEAD_LETTER_QUEUE: z.string().min(1).default("tyk-webhook-deliveries-dlq"),
  STORE_QUEUE: z.string().min(1).default(STORE_QUEUE),
  STORE_DEAD_LETTER_QUEUE: z.string().min(1).default(STORE_DEAD_LETTER_QUEUE),
  PORTAL_URL: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).optional(),
});

export interface Config {
  allowPrivateTargets: boolean;
  /** Seconds to wait before each retry; its length is the number of retries. */
  retrySchedule: number[];
  retentionDays: number;
  /** How long past due a delivery may be before its queue message counts as lost. */
  lostAfter: { pendingMs: number; retryingMs: number };
  queues: { deliveries: string; deadLetters: string; store: string; storeDeadLetters: string };
  portalUrl?: string;
}

// Vars are parsed once per isolate: they cannot change while it lives.
let cached: { env: Env; result: Config | ConfigError } | undefined;

/** The parsed configuration; throws a ConfigError (503, each bad var named) if any var is wrong. */
export function config(env: Env): Config {
  if (cached?.env !== env) cached = { env, result: parse(env) };
  if (cached.result instanceof ConfigError) throw cached.result;
  return cached.result;
}

function parse(env: Env): Config | ConfigError {
  const parsed = vars.safeParse({
    ALLOW_PRIVATE_TARGETS: env.ALLOW_PRIVATE_TARGETS,
    RETRY_SCHEDULE: env.RETRY_SCHEDULE,
    RETENTION_DAYS: env.RETENTION_DAYS,
    LOST_AFTER_SECONDS: env.LOST_AFTER_SECONDS,
    DELIVERY_QUEUE: env.DELIVERY_QUEUE,
    DEAD_LETTER_QUEUE: env.DEAD_LETTER_QUEUE,
    STORE_QUEUE: env.STORE_QUEUE,
    STORE_DEAD_LETTER_QUEUE: env.STORE_DEAD_LETTER_QUEUE,
    PORTAL_URL: env.PORTAL_URL || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".").replace(/\.\d+$/, "")}: ${issue.message}`);
    log.error("invalid configuration", { problems: problems.join("; ") });
    return new ConfigError(problems);
  }
  const {
    ALLOW_PRIVATE_TARGETS,
    RETRY_SCHEDULE,
    RETENTION_DAYS,
    LOST_AFTER_SECONDS,
    DELIVERY_QUEUE,
    DEAD_LETTER_QUEUE,
    STORE_QUEUE,
    STORE_DEAD_LETTER_QUEUE,
    PORTAL_URL,
  } = parsed.data;
  return {
    allowPrivateTargets: ALLOW_PRIVATE_TARGETS === "true",
    retrySchedule: RETRY_SCHEDULE,
    retentionDays: RETENTION_DAYS,
    lostAfter: { pendingMs: LOST_AFTER_SECONDS[0]! * 1000, retryingMs: LOST_AFTER_SECONDS[1]! * 1000 },
    queues: { deliveries: DELIVERY_QUEUE, deadLetters: DEAD_LETTER_QUEUE, store: STORE_QUEUE, storeDeadLetters: STORE_DEAD_LETTER_QUEUE },
    portalUrl: PORTAL_URL,
  };
}

import { z } from "zod";
import type { DeliveryMessage } from "./delivery/message";
import { ConfigError } from "./errors";
import type { RateLimiter } from "./flow/rate-limiter";
import type { ParkedEvent } from "./intake/parked";
import type { ParkedBodies } from "./intake/parked-bodies";
import { log } from "./log";

/** The worker's bindings, as wrangler.toml and the secrets declare them. */
export interface Env {
  DB: D1Database;
  DELIVERIES: Queue<DeliveryMessage>;
  /** Events accepted while D1 could not take them, to be stored (src/intake/parked.ts). */
  STORING: Queue<ParkedEvent>;
  /** Bodies of parked events too large for a queue message, one object per event. */
  PARKED_BODIES: DurableObjectNamespace<ParkedBodies>;
  ASSETS: Fetcher;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
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
  /** The portal's address, for links in chat-format messages (optional). */
  PORTAL_URL?: string;
}

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
 * Every var, its default and its rules, in one place. A bad value fails loudly (every
 * request answers 503 naming it) rather than running with a guess, such as no retries.
 */
const vars = z.object({
  ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).default("false"),
  RETRY_SCHEDULE: secondsList(1, 50).prefault("5,300,1800,7200,18000,36000,36000"),
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
  STORE_QUEUE: z.string().min(1).default("tyk-webhook-events-to-store"),
  PORTAL_URL: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).optional(),
});

export interface Config {
  allowPrivateTargets: boolean;
  /** Seconds to wait before each retry; its length is the number of retries. */
  retrySchedule: number[];
  retentionDays: number;
  /** How long past due a delivery may be before its queue message counts as lost. */
  lostAfter: { pendingMs: number; retryingMs: number };
  queues: { deliveries: string; deadLetters: string; store: string };
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
    PORTAL_URL: env.PORTAL_URL || undefined,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".").replace(/\.\d+$/, "")}: ${issue.message}`);
    log.error("invalid configuration", { problems: problems.join("; ") });
    return new ConfigError(problems);
  }
  const { ALLOW_PRIVATE_TARGETS, RETRY_SCHEDULE, RETENTION_DAYS, LOST_AFTER_SECONDS, DELIVERY_QUEUE, DEAD_LETTER_QUEUE, STORE_QUEUE, PORTAL_URL } = parsed.data;
  return {
    allowPrivateTargets: ALLOW_PRIVATE_TARGETS === "true",
    retrySchedule: RETRY_SCHEDULE,
    retentionDays: RETENTION_DAYS,
    lostAfter: { pendingMs: LOST_AFTER_SECONDS[0]! * 1000, retryingMs: LOST_AFTER_SECONDS[1]! * 1000 },
    queues: { deliveries: DELIVERY_QUEUE, deadLetters: DEAD_LETTER_QUEUE, store: STORE_QUEUE },
    portalUrl: PORTAL_URL,
  };
}

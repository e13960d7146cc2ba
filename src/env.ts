import type { DeliveryMessage } from "./delivery/message";

/** The worker's bindings, as wrangler.toml and the secrets declare them. */
export interface Env {
  DB: D1Database;
  DELIVERIES: Queue<DeliveryMessage>;
  ASSETS: Fetcher;
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
}

export interface Config {
  allowPrivateTargets: boolean;
  /** Seconds to wait before each retry; its length is the number of retries. */
  retrySchedule: number[];
  retentionDays: number;
  /** How long past due a delivery may be before its queue message counts as lost. */
  lostAfter: { pendingMs: number; retryingMs: number };
}

const DEFAULT_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];
const DEFAULT_LOST_AFTER = [120, 300];

// Vars are parsed once per isolate: they cannot change while it lives.
let cached: { env: Env; config: Config } | undefined;

export function config(env: Env): Config {
  if (cached?.env === env) return cached.config;
  const schedule = (env.RETRY_SCHEDULE ?? "")
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n >= 0);
  const retention = Number(env.RETENTION_DAYS);
  const lost = (env.LOST_AFTER_SECONDS ?? "").split(",").map(Number);
  const [pending, retrying] = lost.length === 2 && lost.every((n) => Number.isFinite(n) && n > 0) ? lost : DEFAULT_LOST_AFTER;
  const parsed: Config = {
    allowPrivateTargets: env.ALLOW_PRIVATE_TARGETS === "true",
    retrySchedule: env.RETRY_SCHEDULE === undefined ? DEFAULT_SCHEDULE : schedule,
    retentionDays: Number.isFinite(retention) && retention > 0 ? retention : 30,
    lostAfter: { pendingMs: pending! * 1000, retryingMs: retrying! * 1000 },
  };
  cached = { env, config: parsed };
  return parsed;
}

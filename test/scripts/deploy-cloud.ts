// The deploy tests' harness: an account behind a stand-in Cloudflare API
// (cloudflare-api.mjs), the deploy script run against it, and what every successful run
// must show.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { startCloudflareApi } from "./cloudflare-api.mjs";

const root = path.resolve(import.meta.dirname, "../..");
/** This dispatcher's migrations, in the order they apply. */
export const migrations = readdirSync(path.join(root, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();
/** The default deployment's name (wrangler.toml's). */
export const DEFAULT = "tyk-webhook-dispatcher";

type Api = Awaited<ReturnType<typeof startCloudflareApi>>;
const apis: Api[] = [];
/** Stops every stand-in API started since the last call (after each test). */
export async function closeClouds() {
  await Promise.all(apis.splice(0).map((api) => api.close()));
}

/** An account behind a stand-in API, and a function that runs the deploy script against it. */
export async function cloud(options: Parameters<typeof startCloudflareApi>[0] = {}) {
  const api = await startCloudflareApi(options);
  apis.push(api);
  const temp = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
  const state = mkdtempSync(path.join(tmpdir(), "deploy-state-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? temp,
    CLOUDFLARE_API_BASE_URL: api.url,
    CLOUDFLARE_API_TOKEN: "stand-in-token",
    CLOUDFLARE_ACCOUNT_ID: api.accountId,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_LOG_PATH: path.join(temp, "logs"),
    TMPDIR: temp,
    DEPLOY_STATE_DIR: state,
  };
  return {
    api,
    account: api.account,
    state,
    /** Runs `npm run deploy -- ...args`; what it printed, and whether a secrets file was left. */
    deploy(...args: string[]) {
      return new Promise<{ status: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(root, "scripts/deploy.mjs"), ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (chunk) => {
          output += chunk;
        });
        child.stderr.on("data", (chunk) => {
          output += chunk;
        });
        child.on("close", (status) => {
          // The temporary --secrets-file never outlives the script.
          expect(readdirSync(temp).filter((f) => f.startsWith("dispatcher-secrets-"))).toEqual([]);
          resolve({ status, output });
        });
      });
    },
    worker(name = DEFAULT) {
      const worker = api.account.workers[name];
      if (!worker) throw new Error(`no worker ${name}`);
      const secrets = Object.fromEntries(worker.bindings.filter((b) => b.type === "secret_text").map((b) => [b.name, b.text as string]));
      return { ...worker, secrets };
    },
    keptSecrets(name = DEFAULT) {
      return path.join(state, `secrets.${name}.json`);
    },
  };
}

type Cloud = Awaited<ReturnType<typeof cloud>>;

/** The tokens the run printed are the worker's, and the portal is sent to `origin`. */
export function expectPrintedAsDeployed(c: Cloud, output: string, origin: string, name = DEFAULT) {
  const { secrets } = c.worker(name);
  expect(Object.keys(secrets).sort()).toEqual(["ADMIN_TOKEN", "ENCRYPTION_KEY", "INTAKE_TOKEN"]);
  expect(Buffer.from(secrets.ENCRYPTION_KEY!, "base64")).toHaveLength(32);
  expect(output).toContain(`ADMIN_TOKEN   ${secrets.ADMIN_TOKEN}`);
  expect(output).toContain(`INTAKE_TOKEN  ${secrets.INTAKE_TOKEN}`);
  expect(output).not.toContain(secrets.ENCRYPTION_KEY);
  expect(output).toContain(`Target URL   ${origin}/events`);
  expect(output).toContain(`Header       Authorization: Bearer ${secrets.INTAKE_TOKEN}`);
  expect(output).toContain(`Admin UI       ${origin}/`);
  expect(existsSync(c.keptSecrets(name))).toBe(false);
}

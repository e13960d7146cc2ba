/**
 * `npm run deploy` against a stand-in wrangler (fake-wrangler.mjs) that keeps a Cloudflare
 * account's state in a file: which commands run, in which order, what they leave behind,
 * and what the admin is told.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const fake = path.join(import.meta.dirname, "fake-wrangler.mjs");
const migrations = readdirSync(path.join(root, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();

interface Account {
  loggedIn: boolean;
  queues?: string[];
  databases?: { uuid: string; name: string; migrations: string[] }[];
  workers?: Record<string, { secrets: Record<string, string>; deploys: number; vars?: Record<string, string>; batchSizes?: number[] }>;
  noQueuesPermission?: boolean;
  takenNames?: string[];
}

/** An account, and a function that runs the deploy script against it. */
function account(initial: Account) {
  const dir = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
  const statePath = path.join(dir, "state.json");
  const logPath = path.join(dir, "calls.log");
  writeFileSync(statePath, JSON.stringify(initial));
  writeFileSync(logPath, "");
  return {
    deploy(...args: string[]) {
      writeFileSync(logPath, "");
      const result = spawnSync(process.execPath, [path.join(root, "scripts/deploy.mjs"), ...args], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, WRANGLER: fake, FAKE_WRANGLER_STATE: statePath, FAKE_WRANGLER_LOG: logPath, DISPATCHER_NAME: "" },
      });
      const calls = readFileSync(logPath, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
      return { status: result.status, output: `${result.stdout}${result.stderr}`, calls, commands: calls.map(summary) };
    },
    get state(): Account {
      return JSON.parse(readFileSync(statePath, "utf8"));
    },
  };
}

/** A call as "queues create tyk-webhook-dispatcher-deliveries", without the paths that vary. */
function summary(argv: string[]) {
  return argv.filter((_, i) => argv[i - 1] !== "--config" && argv[i - 1] !== "--secrets-file").join(" ");
}

const Q = "tyk-webhook-dispatcher-deliveries";
const DLQ = "tyk-webhook-dispatcher-deliveries-dlq";
const DB = "tyk-webhook-dispatcher";
/** What a first deploy runs on an empty account, in order. */
const FIRST_RUN = [
  "whoami --json",
  `queues info ${Q}`,
  `queues create ${Q}`,
  `queues info ${DLQ}`,
  `queues create ${DLQ}`,
  "d1 list --json",
  `d1 create ${DB}`,
  "d1 list --json",
  "d1 migrations apply DB --remote --config",
  `secret list --name ${DB} --format json`,
  "deploy --config --secrets-file",
];

describe("npm run deploy", () => {
  it("takes a fresh account to a running deployment, in order, and says what to paste into the portal", () => {
    const cloud = account({ loggedIn: true });
    const run = cloud.deploy();
    expect(run.status, run.output).toBe(0);
    expect(run.commands).toEqual(FIRST_RUN);

    const state = cloud.state;
    expect(state.queues).toEqual([Q, DLQ]);
    expect(state.databases).toHaveLength(1);
    expect(state.databases![0]!.migrations).toEqual(migrations);
    const worker = state.workers![DB]!;
    expect(Object.keys(worker.secrets).sort()).toEqual(["ADMIN_TOKEN", "ENCRYPTION_KEY", "INTAKE_TOKEN"]);
    expect(Buffer.from(worker.secrets.ENCRYPTION_KEY!, "base64")).toHaveLength(32);
    expect(worker.vars).toMatchObject({ DELIVERY_QUEUE: Q, DEAD_LETTER_QUEUE: DLQ });

    // The tokens are printed once, and the portal's settings with the real intake token.
    expect(run.output).toContain(`ADMIN_TOKEN   ${worker.secrets.ADMIN_TOKEN}`);
    expect(run.output).toContain(`INTAKE_TOKEN  ${worker.secrets.INTAKE_TOKEN}`);
    expect(run.output).not.toContain(worker.secrets.ENCRYPTION_KEY!);
    expect(run.output).toContain(`Target URL   https://${DB}.example.workers.dev/events`);
    expect(run.output).toContain("Method       POST");
    expect(run.output).toContain(`Header       Authorization: Bearer ${worker.secrets.INTAKE_TOKEN}`);
    expect(run.output).toContain("AccessRequestCreated");
    expect(run.output).toContain(`Admin UI       https://${DB}.example.workers.dev/`);
  });

  it("creates nothing and overwrites no secret when run again", () => {
    const cloud = account({ loggedIn: true });
    expect(cloud.deploy().status).toBe(0);
    const before = cloud.state;
    const run = cloud.deploy();
    expect(run.status, run.output).toBe(0);
    expect(run.commands).toEqual([
      "whoami --json",
      `queues info ${Q}`,
      `queues info ${DLQ}`,
      "d1 list --json",
      "d1 migrations apply DB --remote --config",
      `secret list --name ${DB} --format json`,
      "deploy --config",
    ]);
    const after = cloud.state;
    expect(after.workers![DB]!.secrets).toEqual(before.workers![DB]!.secrets);
    expect(after.workers![DB]!.deploys).toBe(2);
    expect(after.databases).toEqual(before.databases);
    expect(run.output).toContain("all three exist, kept");
    expect(run.output).toContain("already up to date");
    expect(run.output).not.toContain(before.workers![DB]!.secrets.ADMIN_TOKEN!);
    expect(run.output).toContain("Authorization: Bearer <the INTAKE_TOKEN printed by the first deploy>");
  });

  it("finishes a half-done first run: queues there, no database yet", () => {
    const cloud = account({ loggedIn: true, queues: [Q, DLQ] });
    const run = cloud.deploy();
    expect(run.status, run.output).toBe(0);
    expect(run.commands).toEqual(FIRST_RUN.filter((command) => !command.startsWith("queues create")));
    expect(cloud.state.queues).toEqual([Q, DLQ]);
  });

  it("never replaces an existing ENCRYPTION_KEY, creating only the secrets that are missing", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const cloud = account({ loggedIn: true, workers: { [DB]: { secrets: { ENCRYPTION_KEY: key }, deploys: 1 } } });
    const run = cloud.deploy();
    expect(run.status, run.output).toBe(0);
    const secrets = cloud.state.workers![DB]!.secrets;
    expect(secrets.ENCRYPTION_KEY).toBe(key);
    expect(Object.keys(secrets).sort()).toEqual(["ADMIN_TOKEN", "ENCRYPTION_KEY", "INTAKE_TOKEN"]);
    expect(run.output).toContain("to create: ADMIN_TOKEN, INTAKE_TOKEN");
  });

  it("stops at the first step when not logged in, saying what to do", () => {
    const cloud = account({ loggedIn: false });
    const run = cloud.deploy();
    expect(run.status).toBe(1);
    expect(run.commands).toEqual(["whoami --json"]);
    expect(run.output).toContain("✗ Checking the Cloudflare login failed.");
    expect(run.output).toContain("npx wrangler login");
    expect(run.output).toContain("CLOUDFLARE_API_TOKEN");
    expect(cloud.state.queues ?? []).toEqual([]);
  });

  it("names the step, quotes wrangler and explains a missing Queues permission", () => {
    const cloud = account({ loggedIn: true, noQueuesPermission: true });
    const run = cloud.deploy();
    expect(run.status).toBe(1);
    expect(run.output).toContain(`✗ Creating the queue ${Q} failed.`);
    expect(run.output).toContain("Authentication error [code: 10000]");
    expect(run.output).toContain("Queues Edit");
    expect(run.commands.at(-1)).toBe(`queues create ${Q}`);
  });

  it("explains a queue name already taken in the account", () => {
    const run = account({ loggedIn: true, takenNames: [Q] }).deploy();
    expect(run.status).toBe(1);
    expect(run.output).toContain("Queue name already taken [code: 11009]");
    expect(run.output).toContain("--name");
  });

  it("deploys a second, separately named deployment beside the first", () => {
    const cloud = account({ loggedIn: true });
    expect(cloud.deploy().status).toBe(0);
    const run = cloud.deploy("--name", "dispatcher-staging");
    expect(run.status, run.output).toBe(0);
    const state = cloud.state;
    expect(state.queues).toEqual([Q, DLQ, "dispatcher-staging-deliveries", "dispatcher-staging-deliveries-dlq"]);
    expect(state.databases!.map((d) => d.name)).toEqual([DB, "dispatcher-staging"]);
    expect(Object.keys(state.workers!)).toEqual([DB, "dispatcher-staging"]);
    expect(state.workers!["dispatcher-staging"]!.secrets.ADMIN_TOKEN).not.toBe(state.workers![DB]!.secrets.ADMIN_TOKEN);
    expect(run.output).toContain("https://dispatcher-staging.example.workers.dev/events");
  });

  it("sets the consumer batch size when asked (the Free plan's CPU limit)", () => {
    const cloud = account({ loggedIn: true });
    expect(cloud.deploy().status).toBe(0);
    expect(cloud.state.workers![DB]!.batchSizes).toEqual([10, 10]);
    expect(cloud.deploy("--batch-size", "5").status).toBe(0);
    expect(cloud.state.workers![DB]!.batchSizes).toEqual([5, 5]);
    const bad = cloud.deploy("--batch-size", "500");
    expect(bad.status).toBe(2);
    expect(bad.output).toContain("--batch-size must be a whole number from 1 to 100");
  });

  it("writes a config the real wrangler accepts", () => {
    const cloud = account({ loggedIn: true });
    expect(cloud.deploy("--name", "dry-run-check").status).toBe(0);
    const out = mkdtempSync(path.join(tmpdir(), "deploy-dry-run-"));
    const dry = spawnSync(
      path.join(root, "node_modules/.bin/wrangler"),
      ["deploy", "--dry-run", "--outdir", out, "--config", path.join(root, ".wrangler/deploy/wrangler.dry-run-check.json")],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      },
    );
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("dry-run-check-deliveries");
    expect(dry.stdout).toContain("--dry-run: exiting now.");
  });

  it("refuses a name Cloudflare would not take", () => {
    const run = account({ loggedIn: true }).deploy("--name", "Bad_Name");
    expect(run.status).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.output).toContain('The name "Bad_Name" cannot be used');
  });
});

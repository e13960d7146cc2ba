#!/usr/bin/env node
// `npm run deploy`: from an empty Cloudflare account to a running dispatcher, and safe to
// run again (every step that is already done is skipped). Log in first with
// `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
//
//   npm run deploy                       the default names (tyk-webhook-dispatcher…)
//   npm run deploy -- --name staging     another deployment in the same account
//   npm run deploy -- --batch-size 5     consumer batches of 5 (what the Free plan's 10 ms
//                                        of CPU per invocation needs; docs/capacity.md)
//
// What it does, in order: checks the login, creates the two queues and the D1 database
// if they are missing, applies the remote migrations, generates the three secrets on the
// first deploy only (never overwriting one), deploys the worker with them, and prints what
// to paste into the portal. The wrangler it runs is node_modules' own, or $WRANGLER.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";

const root = path.resolve(import.meta.dirname, "..");
const SECRETS = ["ADMIN_TOKEN", "INTAKE_TOKEN", "ENCRYPTION_KEY"];
const PORTAL_EVENTS = [
  "UserRegistered",
  "UserAccountActivated",
  "UserAccountDeactivated",
  "PasswordReset",
  "ApplicationRegistered",
  "CredentialRegistered",
  "AccessRequestCreated",
  "AccessRequestApproved",
  "AccessRequestRejected",
  "OrganisationRegistered",
  "OrganisationRequestCreated",
  "OrganisationRequestApproved",
  "OrganisationRequestRejected",
  "RegisterInvite",
];

const { values: args } = parseArgs({ options: { name: { type: "string" }, "batch-size": { type: "string" }, help: { type: "boolean", short: "h" } } });
if (args.help) {
  console.log("Usage: npm run deploy [-- --name NAME] [--batch-size N]   (or DISPATCHER_NAME=NAME, QUEUE_BATCH_SIZE=N)");
  process.exit(0);
}

const base = parseToml(readFileSync(path.join(root, "wrangler.toml"), "utf8"));
const name = args.name ?? (process.env.DISPATCHER_NAME || base.name);
if (!/^[a-z0-9](?:[a-z0-9-]{0,52}[a-z0-9])?$/.test(name)) {
  console.error(`✗ The name "${name}" cannot be used: lower-case letters, digits and dashes, at most 54 characters.`);
  process.exit(2);
}
const batchSize = args["batch-size"] ?? process.env.QUEUE_BATCH_SIZE;
if (batchSize !== undefined && !(/^\d+$/.test(batchSize) && Number(batchSize) >= 1 && Number(batchSize) <= 100)) {
  console.error(`✗ --batch-size must be a whole number from 1 to 100, not "${batchSize}".`);
  process.exit(2);
}
const names = { worker: name, database: name, queue: `${name}-deliveries`, deadLetters: `${name}-deliveries-dlq` };
const wrangler = process.env.WRANGLER ?? path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

console.log(`Deploying "${name}": worker ${names.worker}, database ${names.database}, queues ${names.queue} and ${names.deadLetters}.\n`);

/** Runs wrangler without a terminal (so it never waits on a prompt) and keeps what it said. */
function run(...argv) {
  const result = spawnSync(wrangler, argv, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (result.error) return { ok: false, out: "", said: `could not run ${wrangler}: ${result.error.message}` };
  const out = result.stdout ?? "";
  return { ok: result.status === 0, out, said: `${out}\n${result.stderr ?? ""}`.trim() };
}

/** What to do about a failure, from what wrangler said. */
function advice(said) {
  if (/not authenticated|not logged in|wrangler login|"loggedIn": ?false|non-interactive environment/i.test(said)) {
    return "Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, then run `npm run deploy` again.";
  }
  if (/more than one account/i.test(said)) return "Set CLOUDFLARE_ACCOUNT_ID to the account to deploy to, then run `npm run deploy` again.";
  if (/\[code: 10000\]|authentication error|permission|forbidden|unauthori[sz]ed/i.test(said)) {
    return "The API token lacks a permission this step needs. It needs Workers Scripts Edit, D1 Edit, Queues Edit and Account Settings Read; create one with those, set CLOUDFLARE_API_TOKEN, and run `npm run deploy` again.";
  }
  if (/already (taken|exists|in use)|name.*(taken|in use)/i.test(said)) {
    return "That name is already used in this account by something else. Choose another with `npm run deploy -- --name <name>`.";
  }
  if (/workers\.dev subdomain/i.test(said))
    return "Register a workers.dev subdomain in the Cloudflare dashboard (Workers & Pages), then run `npm run deploy` again.";
  return "Fix what wrangler said above and run `npm run deploy` again: every step already done is skipped.";
}

function fail(step, said) {
  const lines = said.split("\n").filter((line) => line.trim());
  console.error(
    `\n✗ ${step} failed.\n\nwrangler said:\n${lines
      .slice(-15)
      .map((l) => `  ${l}`)
      .join("\n")}\n\nWhat to do: ${advice(said)}`,
  );
  process.exit(1);
}

function step(title, fn) {
  process.stdout.write(`→ ${title}… `);
  const outcome = fn();
  console.log(outcome);
}

/** The first JSON value in wrangler's output (a warning may come before it). */
function jsonIn(text) {
  const start = text.search(/[[{]/);
  if (start < 0) throw new Error("no JSON in wrangler's output");
  return JSON.parse(text.slice(start));
}

// 1. Who is deploying.
step("Checking the Cloudflare login", () => {
  const who = run("whoami", "--json");
  if (!who.ok) fail("Checking the Cloudflare login", who.said);
  try {
    const me = jsonIn(who.out);
    if (me.loggedIn === false) fail("Checking the Cloudflare login", "You are not authenticated. Please run `wrangler login`.");
    return me.email ? `logged in as ${me.email}` : "logged in";
  } catch {
    return "logged in";
  }
});

// 2. The queues: Workers cannot deploy a consumer of a queue that does not exist.
for (const queue of [names.queue, names.deadLetters]) {
  step(`Queue ${queue}`, () => {
    const info = run("queues", "info", queue);
    if (info.ok) return "exists, kept";
    if (!/does not exist/i.test(info.said)) fail(`Checking the queue ${queue}`, info.said);
    const created = run("queues", "create", queue);
    if (!created.ok) fail(`Creating the queue ${queue}`, created.said);
    return "created";
  });
}

// 3. The database, found by name, or created: no id to paste by hand.
let databaseId;
step(`D1 database ${names.database}`, () => {
  const find = () => {
    const list = run("d1", "list", "--json");
    if (!list.ok) fail("Listing the D1 databases", list.said);
    return jsonIn(list.out).find((db) => db.name === names.database)?.uuid;
  };
  databaseId = find();
  if (databaseId) return `exists (${databaseId}), kept`;
  const created = run("d1", "create", names.database);
  if (!created.ok) fail(`Creating the D1 database ${names.database}`, created.said);
  databaseId = find();
  if (!databaseId) fail(`Creating the D1 database ${names.database}`, `${created.said}\n(the new database is not in \`wrangler d1 list\`)`);
  return `created (${databaseId})`;
});

// 4. The deploy's own config: wrangler.toml with this deployment's names and ids. Paths are
// absolute, so the file can live outside the repository's root.
const configDir = path.join(root, ".wrangler", "deploy");
mkdirSync(configDir, { recursive: true });
const configPath = path.join(configDir, `wrangler.${name}.json`);
const config = {
  ...base,
  name: names.worker,
  main: path.join(root, base.main),
  assets: { ...base.assets, directory: path.join(root, base.assets.directory) },
  d1_databases: [
    { ...base.d1_databases[0], database_name: names.database, database_id: databaseId, migrations_dir: path.join(root, base.d1_databases[0].migrations_dir) },
  ],
  queues: {
    producers: base.queues.producers.map((p) => ({ ...p, queue: names.queue })),
    consumers: base.queues.consumers.map((c) => ({
      ...c,
      ...(c.dead_letter_queue ? { queue: names.queue, dead_letter_queue: names.deadLetters } : { queue: names.deadLetters }),
      ...(batchSize ? { max_batch_size: Number(batchSize) } : {}),
    })),
  },
  vars: { ...base.vars, DELIVERY_QUEUE: names.queue, DEAD_LETTER_QUEUE: names.deadLetters },
};
writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

// 5. Migrations before the code that needs them goes live.
step("Applying the remote D1 migrations", () => {
  const applied = run("d1", "migrations", "apply", "DB", "--remote", "--config", configPath);
  if (!applied.ok) fail("Applying the remote D1 migrations", applied.said);
  return /no migrations to apply/i.test(applied.said) ? "already up to date" : "applied";
});

// 6. Secrets: made on the first deploy only. Overwriting ENCRYPTION_KEY would make every
// stored secret unreadable, so an existing one is never touched.
let missing = [];
step("Checking the worker's secrets", () => {
  const list = run("secret", "list", "--name", names.worker, "--format", "json");
  if (list.ok) {
    const present = new Set(jsonIn(list.out).map((s) => s.name));
    missing = SECRETS.filter((s) => !present.has(s));
  } else if (/not found|does not exist|\[code: 10007\]/i.test(list.said)) {
    missing = [...SECRETS];
  } else {
    fail("Checking the worker's secrets", list.said);
  }
  return missing.length ? `to create: ${missing.join(", ")}` : "all three exist, kept";
});
const generated = Object.fromEntries(
  missing.map((secret) => [secret, secret === "ENCRYPTION_KEY" ? randomBytes(32).toString("base64") : randomBytes(24).toString("base64url")]),
);

// 7. The worker itself, with the new secrets in the same upload.
let url;
step(`Deploying the worker ${names.worker}`, () => {
  const secretsDir = missing.length ? mkdtempSync(path.join(tmpdir(), "dispatcher-secrets-")) : undefined;
  const secretsFile = secretsDir && path.join(secretsDir, "secrets.json");
  if (secretsFile) writeFileSync(secretsFile, JSON.stringify(generated), { mode: 0o600 });
  try {
    const deployed = run("deploy", "--config", configPath, ...(secretsFile ? ["--secrets-file", secretsFile] : []));
    if (!deployed.ok) fail(`Deploying the worker ${names.worker}`, deployed.said);
    url = deployed.said.match(/https:\/\/[\w.-]+\.workers\.dev/)?.[0];
  } finally {
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  }
  return url ? `live at ${url}` : "deployed";
});

// 8. What the admin does next.
const origin = url ?? "https://<your worker's URL or custom domain>";
const intake = generated.INTAKE_TOKEN ?? "<the INTAKE_TOKEN printed by the first deploy>";
if (missing.length) {
  console.log(`
New secrets were created and uploaded. They are shown this once: keep them in your
password manager (Cloudflare stores them encrypted and never shows them again).`);
  if (generated.ADMIN_TOKEN) console.log(`  ADMIN_TOKEN   ${generated.ADMIN_TOKEN}   signs in to the admin UI and the /portal-api`);
  if (generated.INTAKE_TOKEN) console.log(`  INTAKE_TOKEN  ${generated.INTAKE_TOKEN}   the portal sends it with each event`);
  if (generated.ENCRYPTION_KEY) console.log("  ENCRYPTION_KEY was created too; it stays in Cloudflare and this script never replaces it.");
}
console.log(`
Connect your portal (Settings → Webhooks → Add webhook):
  Target URL   ${origin}/events
  Method       POST
  Header       Authorization: Bearer ${intake}
  Events       tick all: ${PORTAL_EVENTS.join(", ")}
  Then press the portal's Test Connection.

Admin UI       ${origin}/
Live logs      npx wrangler tail ${names.worker}
`);

#!/usr/bin/env node
// `npm run deploy`: from an empty Cloudflare account to a running dispatcher, and safe to
// run again (every step that is already done is skipped). Log in first with
// `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID.
//
//   npm run deploy                               the default names (tyk-webhook-dispatcher…)
//   npm run deploy -- --name staging             another deployment in the same account
//   npm run deploy -- --domain hooks.example.com this deployment's custom domain
//   npm run deploy -- --rotate-key               a new ENCRYPTION_KEY, the old one kept as
//                                                ENCRYPTION_KEY_PREVIOUS
//   npm run deploy -- --batch-size 5             consumer batches of 5 (the Free plan's CPU)
//   npm run deploy -- --upgrade-in-batches       migration 0010 in chunks, for a database
//                                                too large for its one query
//
// docs/deploy.md says what each step does. The rule it keeps: a secret it generates is
// never lost. Everything that can be checked is checked before the upload; the generated
// values are kept in a file only the user can read (.wrangler/deploy/secrets.<name>.json)
// from before the upload until the deploy has finished, are printed if a later step fails,
// and a re-run uses those same values instead of making new ones.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import { cloudflareApi } from "./lib/cloudflare.mjs";
import { upgradeInBatches } from "./lib/upgrade-0010.mjs";
import { apiRunner } from "./upgrade-0010.mjs";

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
// Migration 0010 rebuilds events and deliveries in one query, and D1 stops a query after
// 30 s. Measured locally: 1,000,000 deliveries took 31 s (docs/deploy.md, "Upgrading").
// Above the safe size, --upgrade-in-batches does it in chunks (scripts/upgrade-0010.mjs).
const REBUILD_MIGRATION = "0010_rows_per_delivery.sql";
const REBUILD_SAFE_DELIVERIES = 300_000;
const BEFORE_REBUILD = "0009_routing.sql";

class Stop extends Error {}

const { values: args } = parseArgs({
  options: {
    name: { type: "string" },
    domain: { type: "string" },
    "no-workers-dev": { type: "boolean" },
    "rotate-key": { type: "boolean" },
    "batch-size": { type: "string" },
    "upgrade-in-batches": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  console.log(`Usage: npm run deploy -- [--name NAME] [--domain HOST [--no-workers-dev]] [--rotate-key] [--batch-size N] [--upgrade-in-batches]
  (or DISPATCHER_NAME, DISPATCHER_DOMAIN, DISPATCHER_WORKERS_DEV=false, QUEUE_BATCH_SIZE); docs/deploy.md`);
  process.exit(0);
}

const base = parseToml(readFileSync(path.join(root, "wrangler.toml"), "utf8"));
const name = args.name ?? (process.env.DISPATCHER_NAME || base.name);
const domain = (args.domain ?? process.env.DISPATCHER_DOMAIN ?? "").trim().toLowerCase() || undefined;
const workersDev = !(args["no-workers-dev"] || process.env.DISPATCHER_WORKERS_DEV === "false");
const batchSize = args["batch-size"] ?? process.env.QUEUE_BATCH_SIZE;
const usage = (message) => {
  console.error(`✗ ${message}`);
  process.exit(2);
};
if (!/^[a-z0-9](?:[a-z0-9-]{0,52}[a-z0-9])?$/.test(name))
  usage(`The name "${name}" cannot be used: lower-case letters, digits and dashes, at most 54 characters.`);
if (batchSize !== undefined && !(/^\d+$/.test(batchSize) && Number(batchSize) >= 1 && Number(batchSize) <= 100))
  usage(`--batch-size must be a whole number from 1 to 100, not "${batchSize}".`);
if (domain !== undefined && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain))
  usage(`--domain takes a host name such as webhooks.example.com, not "${domain}".`);
if (!workersDev && !domain) usage("--no-workers-dev needs --domain: without either, the worker would have no address.");

const names = {
  worker: name,
  database: name,
  queue: `${name}-deliveries`,
  deadLetters: `${name}-deliveries-dlq`,
  store: `${name}-events-to-store`,
  storeDeadLetters: `${name}-events-to-store-dlq`,
};
// Every queue, created before the worker that consumes them.
const allQueues = [names.queue, names.deadLetters, names.store, names.storeDeadLetters];
// wrangler.toml's queue names, and this deployment's for each.
const STORE_QUEUE = "tyk-webhook-events-to-store";
const renamed = (queue) =>
  ({
    "tyk-webhook-deliveries": names.queue,
    "tyk-webhook-deliveries-dlq": names.deadLetters,
    [STORE_QUEUE]: names.store,
    [`${STORE_QUEUE}-dlq`]: names.storeDeadLetters,
  })[queue] ?? queue;
const wrangler = process.env.WRANGLER ?? path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };
// The deploy's config and kept secrets ($DEPLOY_STATE_DIR lets the tests use their own).
const deployDir = process.env.DEPLOY_STATE_DIR || path.join(root, ".wrangler", "deploy");
// Generated secrets, kept from before the upload until the deploy has finished.
const keptSecretsPath = path.join(deployDir, `secrets.${name}.json`);
let uploadDir;

/** Runs wrangler without a terminal (so it never waits on a prompt) and keeps what it said. */
function run(...argv) {
  return new Promise((resolve) => {
    const child = spawn(wrangler, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", (error) => resolve({ ok: false, out: "", said: `could not run ${wrangler}: ${error.message}` }));
    child.on("close", (status) => resolve({ ok: status === 0, out, said: `${out}\n${err}`.trim() }));
  });
}

/** What to do about a failure, from what wrangler (or the API) said. */
function advice(said) {
  if (/not authenticated|not logged in|wrangler login|"loggedIn": ?false|non-interactive environment/i.test(said)) {
    return "Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, then run `npm run deploy` again.";
  }
  if (/more than one account/i.test(said)) return "Set CLOUDFLARE_ACCOUNT_ID to the account to deploy to, then run `npm run deploy` again.";
  if (/\[code: 10000\]|authentication error|permission|forbidden|unauthori[sz]ed/i.test(said)) {
    return "The API token lacks a permission this step needs. It needs Workers Scripts Edit, D1 Edit, Queues Edit and Account Settings Read (and Workers Routes Edit for --domain); create one with those, set CLOUDFLARE_API_TOKEN, and run `npm run deploy` again.";
  }
  if (/cron triggers/i.test(said)) {
    return "The account has no cron trigger left (the Free plan allows 5 per account, one per deployment here). Remove a deployment you no longer need (docs/deploy.md, Removing everything) or move to the Paid plan, then run `npm run deploy` again.";
  }
  if (/already (taken|exists|in use)|name.*(taken|in use)/i.test(said)) {
    return "That name is already used in this account by something else. Choose another with `npm run deploy -- --name <name>`.";
  }
  return "Fix what wrangler said above and run `npm run deploy` again: every step already done is skipped.";
}

function fail(step, said, what = advice(said)) {
  const lines = said.split("\n").filter((line) => line.trim());
  console.error(
    `\n✗ ${step} failed.\n\n${lines
      .slice(-15)
      .map((l) => `  ${l}`)
      .join("\n")}\n\nWhat to do: ${what}`,
  );
  throw new Stop();
}

async function step(title, fn) {
  process.stdout.write(`→ ${title}… `);
  console.log(await fn());
}

function warn(lines) {
  console.log(`\n  ⚠ ${lines.join("\n    ")}\n`);
}

/** The first JSON value in wrangler's output (a warning may come before it). */
function jsonIn(text) {
  const start = text.search(/[[{]/);
  if (start < 0) throw new Error("no JSON in wrangler's output");
  return JSON.parse(text.slice(start));
}

function removeUploadFile() {
  if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
  uploadDir = undefined;
}
// The temporary file handed to `wrangler deploy --secrets-file` goes on every way out:
// the deploy's own `finally`, an exit, and Ctrl-C or a kill.
process.on("exit", removeUploadFile);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    removeUploadFile();
    console.error(`\n✗ Stopped (${signal}).${existsSync(keptSecretsPath) ? ` Generated secrets are kept in ${keptSecretsPath}.` : ""}`);
    process.exit(130);
  });
}

try {
  await deploy();
} catch (error) {
  if (!(error instanceof Stop)) throw error;
  process.exitCode = 1;
} finally {
  removeUploadFile();
}

async function deploy() {
  console.log(
    `Deploying "${name}": worker ${names.worker}, database ${names.database}, queues ${names.queue}, ${names.deadLetters}, ${names.store} and ${names.storeDeadLetters}` +
      `${domain ? `, custom domain ${domain}` : ""}${workersDev ? "" : ", no workers.dev address"}.\n`,
  );
  if (base.routes || base.route || base.workers_dev !== undefined) {
    warn([
      "wrangler.toml's routes and workers_dev are not used by `npm run deploy`: a domain belongs to one",
      "deployment, so give it with --domain (docs/deploy.md, A custom domain).",
    ]);
  }

  // 1. Who is deploying, and the reads that change nothing, side by side.
  let api;
  let apiToken;
  let accountId;
  await step("Checking the Cloudflare login", async () => {
    const [who, token] = await Promise.all([run("whoami", "--json"), run("auth", "token", "--json")]);
    if (!who.ok) fail("Checking the Cloudflare login", who.said);
    let me;
    try {
      me = jsonIn(who.out);
    } catch {
      fail("Checking the Cloudflare login", who.said);
    }
    if (me.loggedIn === false) fail("Checking the Cloudflare login", "You are not authenticated. Please run `wrangler login`.");
    accountId = process.env.CLOUDFLARE_ACCOUNT_ID || (me.accounts?.length === 1 ? me.accounts[0].id : undefined);
    if (!accountId) fail("Checking the Cloudflare login", "You have access to more than one account.");
    if (!token.ok) fail("Checking the Cloudflare login", token.said);
    const credentials = jsonIn(token.out);
    if (!credentials.token) fail("Checking the Cloudflare login", "Log in with an API token or `wrangler login` (a global API key is not supported here).");
    api = cloudflareApi(credentials.token, accountId);
    apiToken = credentials.token;
    return me.email ? `logged in as ${me.email}` : "logged in";
  });
  const apiStep = async (title, fn) => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof Stop) throw error;
      fail(title, error instanceof Error ? error.message : String(error));
    }
  };

  const [queueInfos, databaseList, secretList, subdomain, domainOwner] = await Promise.all([
    Promise.all(allQueues.map((queue) => run("queues", "info", queue))),
    run("d1", "list", "--json"),
    run("secret", "list", "--name", names.worker, "--format", "json"),
    apiStep("Checking the account's workers.dev subdomain", () => (workersDev ? api.subdomain() : null)),
    apiStep(`Checking who serves ${domain}`, () => (domain ? api.domainOwner(domain) : null)),
  ]);

  // 2. The addresses, before anything is created: an account without a workers.dev
  // subdomain makes `wrangler deploy` stop after the upload.
  if (workersDev) {
    await step("The account's workers.dev subdomain", async () => {
      if (subdomain) return `${subdomain}.workers.dev`;
      fail(
        "Checking the account's workers.dev subdomain",
        "This account has no workers.dev subdomain yet.",
        `Choose one in the Cloudflare dashboard (Workers & Pages; https://dash.cloudflare.com/${accountId}/workers/onboarding), then run \`npm run deploy\` again. Or serve only a custom domain: \`npm run deploy -- --domain <host> --no-workers-dev\`. Nothing was created.`,
      );
    });
  }
  if (domain) {
    await step(`Custom domain ${domain}`, async () => {
      if (!domainOwner) return "free";
      if (domainOwner === names.worker) return "already this deployment's, kept";
      fail(
        `Checking the custom domain ${domain}`,
        `${domain} is the custom domain of the worker "${domainOwner}".`,
        `Without a terminal, wrangler would move it to "${names.worker}" without asking. Choose another host name, or remove it from "${domainOwner}" first (dashboard: Workers & Pages → ${domainOwner} → Settings → Domains & Routes).`,
      );
    });
  }

  // 3. The queues: Workers cannot deploy a consumer of a queue that does not exist. One
  // used by another worker is not taken over; one found unused is named.
  for (const [i, queue] of allQueues.entries()) {
    const info = queueInfos[i];
    await step(`Queue ${queue}`, async () => {
      if (info.ok) {
        const users = [...info.out.matchAll(/^(?:Producers|Consumers):\s*(.*)$/gm)].flatMap((m) => m[1].split(",").map((u) => u.trim()));
        const others = users.filter((u) => u && u !== `worker:${names.worker}`);
        if (others.length) {
          fail(
            `Checking the queue ${queue}`,
            `The queue ${queue} exists and is used by ${others.join(", ")}.`,
            "It belongs to something else: choose another name for this deployment with `npm run deploy -- --name <name>`.",
          );
        }
        if (users.length) return "exists, kept";
        warn([
          `The queue ${queue} already exists and no worker uses it: this deploy did not create it.`,
          "It is used as this deployment's queue. If an earlier `npm run deploy` made it, all is well;",
          "if it is someone else's, stop (Ctrl-C) and choose another name with `npm run deploy -- --name <name>`.",
        ]);
        return "exists, not created by this deploy, used";
      }
      if (!/does not exist/i.test(info.said)) fail(`Checking the queue ${queue}`, info.said);
      const created = await run("queues", "create", queue);
      if (!created.ok) fail(`Creating the queue ${queue}`, created.said);
      return "created";
    });
  }

  // 4. The database, found by name, or created: no id to paste by hand. One that holds
  // anything but this dispatcher's migrations is not taken over.
  let databaseId;
  let applied = [];
  // A batched upgrade of 0010 that was begun (its own table is there) is finished first.
  let upgradeBegun = false;
  await step(`D1 database ${names.database}`, async () => {
    const find = (list) => {
      if (!list.ok) fail("Listing the D1 databases", list.said);
      return jsonIn(list.out).find((db) => db.name === names.database);
    };
    const found = find(databaseList);
    if (!found) {
      const created = await run("d1", "create", names.database);
      if (!created.ok) fail(`Creating the D1 database ${names.database}`, created.said);
      databaseId = find(await run("d1", "list", "--json"))?.uuid;
      if (!databaseId) fail(`Creating the D1 database ${names.database}`, `${created.said}\n(the new database is not in \`wrangler d1 list\`)`);
      return `created (${databaseId})`;
    }
    databaseId = found.uuid;
    const ours = new Set(migrationFiles());
    let tables;
    await apiStep(`Reading the D1 database ${names.database}`, async () => {
      tables = (await api.query(databaseId, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")).map(
        (r) => r.name,
      );
      if (tables.includes("d1_migrations")) applied = (await api.query(databaseId, "SELECT name FROM d1_migrations ORDER BY id")).map((r) => r.name);
      upgradeBegun = tables.includes("__0010_state");
    });
    const foreign = applied.filter((m) => !ours.has(m));
    if ((tables.length && !tables.includes("d1_migrations")) || foreign.length) {
      fail(
        `Checking the D1 database ${names.database}`,
        `The database ${names.database} exists and holds ${foreign.length ? `migrations that are not this dispatcher's (${foreign.slice(0, 3).join(", ")})` : `tables this dispatcher did not make (${tables.slice(0, 3).join(", ")})`}.`,
        "It belongs to something else: choose another name for this deployment with `npm run deploy -- --name <name>`.",
      );
    }
    if (applied.length) return `exists (${databaseId}), kept`;
    warn([
      `The D1 database ${names.database} already exists, empty: this deploy did not create it.`,
      "It is used as this deployment's database. If an earlier `npm run deploy` made it, all is well;",
      "if it is someone else's, stop (Ctrl-C) and choose another name with `npm run deploy -- --name <name>`.",
    ]);
    return `exists (${databaseId}), empty, not created by this deploy, used`;
  });

  // 5. The deploy's own config: wrangler.toml with this deployment's names, ids, domain and
  // workers.dev choice (explicit, so adding a domain does not switch workers.dev off).
  mkdirSync(deployDir, { recursive: true });
  const configPath = path.join(deployDir, `wrangler.${name}.json`);
  const { routes: _routes, route: _route, workers_dev: _workersDev, ...shared } = base;
  const config = {
    ...shared,
    name: names.worker,
    main: path.join(root, base.main),
    assets: { ...base.assets, directory: path.join(root, base.assets.directory) },
    workers_dev: workersDev,
    ...(domain ? { routes: [{ pattern: domain, custom_domain: true }] } : {}),
    d1_databases: [
      { ...base.d1_databases[0], database_name: names.database, database_id: databaseId, migrations_dir: path.join(root, base.d1_databases[0].migrations_dir) },
    ],
    queues: {
      producers: base.queues.producers.map((p) => ({ ...p, queue: renamed(p.queue) })),
      consumers: base.queues.consumers.map((c) => ({
        ...c,
        queue: renamed(c.queue),
        ...(c.dead_letter_queue ? { dead_letter_queue: renamed(c.dead_letter_queue) } : {}),
        // The batch size is the deliveries' (the storing queues keep wrangler.toml's).
        ...(batchSize && !c.queue.startsWith(STORE_QUEUE) ? { max_batch_size: Number(batchSize) } : {}),
      })),
    },
    vars: {
      ...base.vars,
      DELIVERY_QUEUE: names.queue,
      DEAD_LETTER_QUEUE: names.deadLetters,
      STORE_QUEUE: names.store,
      STORE_DEAD_LETTER_QUEUE: names.storeDeadLetters,
    },
  };

  // 6. Secrets, checked (and a key rotation refused) before anything changes.
  let present = new Set();
  let workerExists = true;
  await step("Checking the worker's secrets", async () => {
    if (secretList.ok) present = new Set(jsonIn(secretList.out).map((s) => s.name));
    else if (/not found|does not exist|\[code: 10007\]/i.test(secretList.said)) workerExists = false;
    else fail("Checking the worker's secrets", secretList.said);
    const missing = SECRETS.filter((s) => !present.has(s));
    return missing.length ? `to create: ${missing.join(", ")}` : "all three exist, kept";
  });
  if (args["rotate-key"]) {
    if (!present.has("ENCRYPTION_KEY")) {
      fail(
        "Rotating ENCRYPTION_KEY",
        `The worker ${names.worker} has no ENCRYPTION_KEY yet.`,
        "Deploy it first (`npm run deploy` creates the key); there is nothing to rotate.",
      );
    }
    if (present.has("ENCRYPTION_KEY_PREVIOUS")) {
      fail(
        "Rotating ENCRYPTION_KEY",
        `The worker ${names.worker} still has an ENCRYPTION_KEY_PREVIOUS: the last rotation is not finished.`,
        `Wait until the sweeper logs \`reencrypted: 0\` (\`npx wrangler tail ${names.worker}\`), then \`npx wrangler secret delete ENCRYPTION_KEY_PREVIOUS --name ${names.worker}\`, then rotate again. Rotating now would make the values still under the oldest key unreadable.`,
      );
    }
  }

  // 7. Migrations before the code that needs them goes live; the one that rebuilds the
  // big tables only where it fits in D1's 30 s. Above that size (when asked, or when an
  // upgrade in batches was begun before) it is done in chunks first.
  let inBatches = upgradeBegun;
  if (applied.length && !applied.includes(REBUILD_MIGRATION)) {
    inBatches ||= Boolean(args["upgrade-in-batches"]);
    const [{ n }] = inBatches ? [{ n: 0 }] : await apiStep("Counting the deliveries", () => api.query(databaseId, "SELECT count(*) AS n FROM deliveries"));
    if (n > REBUILD_SAFE_DELIVERIES) {
      const again = `npm run deploy -- ${name === base.name ? "" : `--name ${name} `}--upgrade-in-batches`;
      fail(
        `Upgrading the D1 database ${names.database}`,
        `Migration ${REBUILD_MIGRATION} rebuilds the deliveries and events tables in one query; this database has ${n.toLocaleString("en")} deliveries, more than the ${REBUILD_SAFE_DELIVERIES.toLocaleString("en")} it is safe for (D1 stops a query after 30 s).`,
        `Run \`${again}\`: it moves the rows over in chunks that each take a few seconds, keeps every delivery and event, and can be stopped and run again (docs/deploy.md, “Upgrading a large database”). Nothing was changed.`,
      );
    }
  }
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  if (inBatches && !applied.includes(BEFORE_REBUILD)) {
    // The migrations before 0010 first, on their own (wrangler applies every pending one).
    const earlierDir = path.join(deployDir, `migrations-before-0010.${name}`);
    rmSync(earlierDir, { recursive: true, force: true });
    mkdirSync(earlierDir, { recursive: true });
    for (const file of migrationFiles().filter((f) => f < REBUILD_MIGRATION)) {
      copyFileSync(path.join(root, base.d1_databases[0].migrations_dir, file), path.join(earlierDir, file));
    }
    const earlierConfig = path.join(deployDir, `wrangler.${name}.before-0010.json`);
    writeFileSync(earlierConfig, `${JSON.stringify({ ...config, d1_databases: [{ ...config.d1_databases[0], migrations_dir: earlierDir }] }, null, 2)}\n`);
    await step("Applying the remote D1 migrations before 0010", async () => {
      const result = await run("d1", "migrations", "apply", "DB", "--remote", "--config", earlierConfig);
      if (!result.ok) fail("Applying the remote D1 migrations before 0010", result.said);
      return "applied";
    });
  }
  if (inBatches) {
    console.log(`→ Upgrading the D1 database ${names.database} to ${REBUILD_MIGRATION} in batches (docs/deploy.md, “Upgrading a large database”)…`);
    try {
      await upgradeInBatches({
        exec: apiRunner({ token: apiToken, accountId, databaseId }),
        log: (line) => console.log(`    ${line}`),
      });
    } catch (error) {
      fail(
        `Upgrading the D1 database ${names.database} in batches`,
        error instanceof Error ? error.message : String(error),
        `Run \`npm run deploy -- ${name === base.name ? "" : `--name ${name} `}--upgrade-in-batches\` again: it goes on where it stopped. Nothing is lost, and the old code keeps serving meanwhile.`,
      );
    }
  }
  await step("Applying the remote D1 migrations", async () => {
    const result = await run("d1", "migrations", "apply", "DB", "--remote", "--config", configPath);
    if (!result.ok) fail("Applying the remote D1 migrations", result.said);
    return /no migrations to apply/i.test(result.said) ? "already up to date" : "applied";
  });

  // 8. The values to upload: the missing secrets (those an interrupted deploy generated,
  // or new ones) and, for a rotation, a new key while the API moves the old one to
  // ENCRYPTION_KEY_PREVIOUS in the same version (an inherit binding with old_name: the
  // old key is never read or shown).
  const kept = readKeptSecrets();
  const generated = {};
  for (const secret of SECRETS.filter((s) => !present.has(s))) generated[secret] = kept[secret] ?? newSecret(secret);
  const recovered = SECRETS.filter((s) => present.has(s) && kept[s] !== undefined);
  const upload = { ...generated };
  if (args["rotate-key"]) {
    upload.ENCRYPTION_KEY = newSecret("ENCRYPTION_KEY");
    config.unsafe = {
      ...base.unsafe,
      bindings: [...(base.unsafe?.bindings ?? []), { name: "ENCRYPTION_KEY_PREVIOUS", type: "inherit", old_name: "ENCRYPTION_KEY" }],
    };
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  }
  // Shown to the user: tokens generated now, or by a deploy that did not finish.
  const tokens = { ...Object.fromEntries(recovered.map((s) => [s, kept[s]])), ...generated };
  if (Object.keys(generated).length) keepSecrets({ ...kept, ...generated });

  // 9. The worker itself, with its secrets in the same upload.
  let output = "";
  try {
    await step(`Deploying the worker ${names.worker}`, async () => {
      let secretsFile;
      if (Object.keys(upload).length) {
        uploadDir = mkdtempSync(path.join(tmpdir(), "dispatcher-secrets-"));
        secretsFile = path.join(uploadDir, "secrets.json");
        writeFileSync(secretsFile, JSON.stringify(upload), { mode: 0o600 });
      }
      try {
        const deployed = await run("deploy", "--config", configPath, ...(secretsFile ? ["--secrets-file", secretsFile] : []));
        output = deployed.said;
        if (!deployed.ok) fail(`Deploying the worker ${names.worker}`, deployed.said);
      } finally {
        removeUploadFile();
      }
      return "deployed";
    });
  } catch (error) {
    if (error instanceof Stop && Object.keys(tokens).length) printKeptSecrets(tokens, /Uploaded |Current Version ID/.test(output) || !workerExists);
    throw error;
  }

  // 10. What the admin does next, at the address the worker really has.
  const workersDevUrl = workersDev ? (output.match(/https:\/\/[\w.-]+\.workers\.dev/)?.[0] ?? `https://${names.worker}.${subdomain}.workers.dev`) : undefined;
  const origin = domain ? `https://${domain}` : workersDevUrl;
  if (args["rotate-key"]) {
    console.log(`
ENCRYPTION_KEY was replaced, and the old key is now ENCRYPTION_KEY_PREVIOUS. The sweeper
re-encrypts every stored value under the new key within a few minutes and logs
\`reencrypted: 0\` when done (npx wrangler tail ${names.worker}); then run
  npx wrangler secret delete ENCRYPTION_KEY_PREVIOUS --name ${names.worker}`);
  }
  if (Object.keys(tokens).length) {
    console.log(`
New secrets ${recovered.length ? "(from the deploy that did not finish) " : ""}are in the worker. They are shown this once: keep them in your
password manager (Cloudflare stores them encrypted and never shows them again).`);
    if (tokens.ADMIN_TOKEN) console.log(`  ADMIN_TOKEN   ${tokens.ADMIN_TOKEN}   signs in to the admin UI and the /portal-api`);
    if (tokens.INTAKE_TOKEN) console.log(`  INTAKE_TOKEN  ${tokens.INTAKE_TOKEN}   the portal sends it with each event`);
    if (tokens.ENCRYPTION_KEY) console.log("  ENCRYPTION_KEY was created too; it stays in Cloudflare (rotate it with --rotate-key).");
  }
  rmSync(keptSecretsPath, { force: true });
  const intake = tokens.INTAKE_TOKEN ?? "<the INTAKE_TOKEN printed by the first deploy>";
  console.log(`
Connect your portal (Settings → Webhooks → Add webhook):
  Target URL   ${origin}/events
  Method       POST
  Header       Authorization: Bearer ${intake}
  Events       tick all: ${PORTAL_EVENTS.join(", ")}
  Then press the portal's Test Connection.

Admin UI       ${origin}/${domain && workersDevUrl ? `\nAlso at       ${workersDevUrl}/ (workers.dev; --no-workers-dev turns it off)` : ""}${domain ? "\n               (a new custom domain can take a few minutes to answer)" : ""}
Live logs      npx wrangler tail ${names.worker}
`);
}

function migrationFiles() {
  return readdirSync(path.join(root, base.d1_databases[0].migrations_dir))
    .filter((f) => f.endsWith(".sql"))
    .sort();
}

function newSecret(secret) {
  return secret.startsWith("ENCRYPTION_KEY") ? randomBytes(32).toString("base64") : randomBytes(24).toString("base64url");
}

function readKeptSecrets() {
  try {
    return JSON.parse(readFileSync(keptSecretsPath, "utf8"));
  } catch {
    return {};
  }
}

function keepSecrets(values) {
  mkdirSync(deployDir, { recursive: true, mode: 0o700 });
  writeFileSync(keptSecretsPath, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  chmodSync(keptSecretsPath, 0o600);
}

function printKeptSecrets(tokens, mayBeUploaded) {
  console.error(`
The secrets generated for this deployment are not lost. ${mayBeUploaded ? "The worker may already have them." : "They did not reach Cloudflare yet."}
The next \`npm run deploy${name === base.name ? "" : ` -- --name ${name}`}\` uploads these same values (never new ones) and prints them again;
until a deploy finishes they are kept in ${keptSecretsPath} (readable only by you).`);
  if (tokens.ADMIN_TOKEN) console.error(`  ADMIN_TOKEN   ${tokens.ADMIN_TOKEN}`);
  if (tokens.INTAKE_TOKEN) console.error(`  INTAKE_TOKEN  ${tokens.INTAKE_TOKEN}`);
}

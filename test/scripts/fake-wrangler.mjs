#!/usr/bin/env node
// A stand-in for the wrangler CLI, for testing `npm run deploy` without Cloudflare. It
// keeps an account's state in the JSON file $FAKE_WRANGLER_STATE, appends each call's
// arguments to $FAKE_WRANGLER_LOG, and answers as wrangler 4.86 does (its messages, its
// exit codes, its JSON) for the commands the deploy script uses.
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const statePath = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(statePath, "utf8"));
const argv = process.argv.slice(2);
appendFileSync(process.env.FAKE_WRANGLER_LOG, `${JSON.stringify(argv)}\n`);

const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
const flag = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const error = (message) => {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
  process.exit(1);
};
const apiError = (path, message, code) => error(`A request to the Cloudflare API (/accounts/acc123${path}) failed.\n\n  ${message} [code: ${code}]`);
const config = () => JSON.parse(readFileSync(flag("--config"), "utf8"));
const id = () => crypto.randomUUID();

state.queues ??= [];
state.databases ??= [];
state.workers ??= {};

const [command, sub] = argv;
if (command === "whoami") {
  if (!state.loggedIn) {
    process.stdout.write(`${JSON.stringify({ loggedIn: false }, null, 2)}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `${JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "admin@example.com", accounts: [{ id: "acc123", name: "Example" }] }, null, 2)}\n`,
  );
  process.exit(0);
}
if (!state.loggedIn) {
  error(
    "In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN.",
  );
}

if (command === "queues" && sub === "info") {
  const name = argv[2];
  if (!state.queues.includes(name)) error(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
  console.log(
    `Queue Name: ${name}\nQueue ID: ${id()}\nCreated On: 2026-01-01T00:00:00Z\nLast Modified: 2026-01-01T00:00:00Z\nNumber of Producers: 0\nNumber of Consumers: 0`,
  );
} else if (command === "queues" && sub === "create") {
  const name = argv[2];
  if (state.noQueuesPermission) apiError("/queues", "Authentication error", 10000);
  if (state.queues.includes(name) || state.takenNames?.includes(name)) apiError("/queues", "Queue name already taken", 11009);
  state.queues.push(name);
  save();
  console.log(
    `🌀 Creating queue '${name}'\n✅ Created queue '${name}'\n\nConfigure your Worker to send messages to this queue:\n\n[[queues.producers]]\nqueue = "${name}"`,
  );
} else if (command === "d1" && sub === "list") {
  console.log(
    JSON.stringify(
      state.databases.map(({ uuid, name }) => ({ uuid, name, created_at: "2026-01-01T00:00:00Z", version: "production", num_tables: 0, file_size: 12288 })),
      null,
      2,
    ),
  );
} else if (command === "d1" && sub === "create") {
  const name = argv[2];
  const uuid = id();
  state.databases.push({ uuid, name, migrations: [] });
  save();
  console.log(
    `✅ Successfully created DB '${name}'\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n[[d1_databases]]\nbinding = "${name.replace(/-/g, "_")}"\ndatabase_name = "${name}"\ndatabase_id = "${uuid}"`,
  );
} else if (command === "d1" && sub === "migrations" && argv[2] === "apply") {
  const { database_id, database_name, migrations_dir } = config().d1_databases[0];
  const db = state.databases.find((d) => d.uuid === database_id);
  if (!db) apiError(`/d1/database/${database_id}`, "The database could not be found", 7404);
  const files = readdirSync(migrations_dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .filter((f) => !db.migrations.includes(f));
  if (files.length === 0) console.log("✅ No migrations to apply!");
  else {
    db.migrations.push(...files);
    save();
    console.log(
      `Migrations to be applied:\n${files.join("\n")}\n🌀 Executing on remote database ${database_name} (${database_id}):\n✅ Applied ${files.length} migrations.`,
    );
  }
} else if (command === "secret" && sub === "list") {
  const worker = state.workers[flag("--name")];
  if (!worker)
    error(
      `Worker "${flag("--name")}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\nOtherwise, check that the Worker name is correct and you're logged into the right account.`,
    );
  console.log(
    JSON.stringify(
      Object.keys(worker.secrets).map((name) => ({ name, type: "secret_text" })),
      null,
      "  ",
    ),
  );
} else if (command === "deploy") {
  const cfg = config();
  for (const queue of [...cfg.queues.producers, ...cfg.queues.consumers].map((q) => q.queue)) {
    if (!state.queues.includes(queue)) error(`Queue "${queue}" does not exist. To create it, run: wrangler queues create ${queue}`);
  }
  if (!state.databases.some((d) => d.uuid === cfg.d1_databases[0].database_id))
    apiError("/workers/scripts", "D1 binding DB references an unknown database", 10021);
  state.workers[cfg.name] ??= { secrets: {}, deploys: 0 };
  const worker = state.workers[cfg.name];
  const secretsFile = flag("--secrets-file");
  if (secretsFile) Object.assign(worker.secrets, JSON.parse(readFileSync(secretsFile, "utf8")));
  worker.deploys++;
  worker.vars = cfg.vars;
  worker.batchSizes = cfg.queues.consumers.map((c) => c.max_batch_size);
  save();
  console.log(
    `Total Upload: 1210.55 KiB / gzip: 216.10 KiB\nUploaded ${cfg.name} (3.21 sec)\nDeployed ${cfg.name} triggers (1.02 sec)\n  https://${cfg.name}.example.workers.dev\n  schedule: * * * * *\n  Producer for ${cfg.queues.producers[0].queue}\n  Consumer for ${cfg.queues.consumers[0].queue}\nCurrent Version ID: ${id()}`,
  );
} else {
  error(`fake wrangler: unexpected command ${argv.join(" ")}`);
}

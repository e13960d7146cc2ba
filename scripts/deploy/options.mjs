// What `npm run deploy` is asked to do: its options (or their environment variables),
// refused before anything runs when they cannot be honoured, and the names they give this
// deployment's worker, database and queues.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { readArgs, refuseArgs } from "../lib/args.mjs";
import { root } from "./paths.mjs";

const USAGE = `Usage: npm run deploy -- [--name NAME] [--domain HOST [--no-workers-dev]] [--rotate-key] [--batch-size N] [--upgrade-in-batches]
  (or DISPATCHER_NAME, DISPATCHER_DOMAIN, DISPATCHER_WORKERS_DEV=false, QUEUE_BATCH_SIZE); docs/deploy.md`;

/** The options, with wrangler.toml (`base`) and the resources' names; exits 0 after --help, 2 on an option refused. */
export function readOptions() {
  const args = readArgs(
    {
      name: { type: "string" },
      domain: { type: "string" },
      "no-workers-dev": { type: "boolean" },
      "rotate-key": { type: "boolean" },
      "batch-size": { type: "string" },
      "upgrade-in-batches": { type: "boolean" },
    },
    { usage: USAGE, command: "npm run deploy" },
  );

  const base = parseToml(readFileSync(path.join(root, "wrangler.toml"), "utf8"));
  const name = args.name ?? (process.env.DISPATCHER_NAME || base.name);
  const domain = (args.domain ?? process.env.DISPATCHER_DOMAIN ?? "").trim().toLowerCase() || undefined;
  const workersDev = !(args["no-workers-dev"] || process.env.DISPATCHER_WORKERS_DEV === "false");
  const batchSize = args["batch-size"] ?? process.env.QUEUE_BATCH_SIZE;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,52}[a-z0-9])?$/.test(name))
    refuseArgs(`The name "${name}" cannot be used: lower-case letters, digits and dashes, at most 54 characters.`);
  if (batchSize !== undefined && !(/^\d+$/.test(batchSize) && Number(batchSize) >= 1 && Number(batchSize) <= 100))
    refuseArgs(`--batch-size must be a whole number from 1 to 100, not "${batchSize}".`);
  if (domain !== undefined && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain))
    refuseArgs(`--domain takes a host name such as webhooks.example.com, not "${domain}".`);
  if (!workersDev && !domain) refuseArgs("--no-workers-dev needs --domain: without either, the worker would have no address.");

  return {
    base,
    name,
    domain,
    workersDev,
    batchSize,
    rotateKey: Boolean(args["rotate-key"]),
    upgradeInBatches: Boolean(args["upgrade-in-batches"]),
    names: resourceNames(name),
  };
}

function resourceNames(name) {
  return {
    worker: name,
    database: name,
    queue: `${name}-deliveries`,
    deadLetters: `${name}-deliveries-dlq`,
    store: `${name}-events-to-store`,
    storeDeadLetters: `${name}-events-to-store-dlq`,
  };
}

/** Every queue, in the order they are created (all before the worker that consumes them). */
export const allQueues = (names) => [names.queue, names.deadLetters, names.store, names.storeDeadLetters];

/** The command that runs this deployment's deploy again, with `flags` (`--name` only when not the default). */
export function deployCommand({ name, base }, ...flags) {
  const all = [...(name === base.name ? [] : ["--name", name]), ...flags];
  return `npm run deploy${all.length ? ` -- ${all.join(" ")}` : ""}`;
}

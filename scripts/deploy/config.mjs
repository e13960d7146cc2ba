// Step 5: the deploy's own config, wrangler.toml with this deployment's names, database id,
// domain and workers.dev choice. Every later wrangler call is given it, so wrangler.toml
// itself keeps the local settings `npm start` uses.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { deployDir, root } from "./paths.mjs";

// wrangler.toml's queue names start with these; the deliveries' are the other ones.
const STORE_QUEUE = "tyk-webhook-events-to-store";

/** This deployment's config (and the folder it goes in, made now). */
export function deployConfig({ base, names, domain, workersDev, batchSize }, databaseId) {
  mkdirSync(deployDir, { recursive: true });
  const renamed = (queue) =>
    ({
      "tyk-webhook-deliveries": names.queue,
      "tyk-webhook-deliveries-dlq": names.deadLetters,
      [STORE_QUEUE]: names.store,
      [`${STORE_QUEUE}-dlq`]: names.storeDeadLetters,
    })[queue] ?? queue;
  // A domain belongs to one deployment: wrangler.toml's routes are never deployed.
  const { routes: _routes, route: _route, workers_dev: _workersDev, ...shared } = base;
  return {
    ...shared,
    name: names.worker,
    main: path.join(root, base.main),
    assets: { ...base.assets, directory: path.join(root, base.assets.directory) },
    // Explicit, so that adding a domain does not switch workers.dev off.
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
}

/**
 * The config for a key rotation: the API moves the old ENCRYPTION_KEY to
 * ENCRYPTION_KEY_PREVIOUS in the same version as the new key (an inherit binding with
 * old_name), so the old key is never read or shown.
 */
export function withPreviousKey(config, base) {
  return {
    ...config,
    unsafe: {
      ...base.unsafe,
      bindings: [...(base.unsafe?.bindings ?? []), { name: "ENCRYPTION_KEY_PREVIOUS", type: "inherit", old_name: "ENCRYPTION_KEY" }],
    },
  };
}

export function writeConfig(file, config) {
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

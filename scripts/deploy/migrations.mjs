// Step 7: the remote migrations, applied before the code that needs them goes live. The
// one that rebuilds the big tables runs as one query only where it fits in D1's 30 s;
// above that size (when asked, or when an upgrade in batches was begun before) it is done
// in chunks first (scripts/lib/upgrade-0010.mjs).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { MIGRATION as REBUILD_MIGRATION, upgradeInBatches } from "../lib/upgrade-0010.mjs";
import { apiRunner } from "../upgrade-0010.mjs";
import { writeConfig } from "./config.mjs";
import { deployCommand } from "./options.mjs";
import { beforeRebuildConfigPath, beforeRebuildMigrationsDir, configPath, root } from "./paths.mjs";
import { apiStep, fail, step } from "./steps.mjs";
import { run } from "./wrangler.mjs";

// Measured locally: 1,000,000 deliveries took 31 s (docs/deploy.md, "Upgrading").
const REBUILD_SAFE_DELIVERIES = 300_000;
const BEFORE_REBUILD = "0009_routing.sql";
const LARGE_DATABASE = "docs/deploy.md, “Upgrading a large database”";

/** This dispatcher's migration files, in the order they apply. */
export function migrationFiles(base) {
  return readdirSync(path.join(root, base.d1_databases[0].migrations_dir))
    .filter((f) => f.endsWith(".sql"))
    .sort();
}

/** Whether the rebuild is done in batches; refuses (changing nothing) a database too large for the one query. */
export async function rebuildInBatches(options, api, { id, applied, upgradeBegun }) {
  if (!applied.length || applied.includes(REBUILD_MIGRATION)) return upgradeBegun;
  if (upgradeBegun || options.upgradeInBatches) return true;
  const [{ n }] = await apiStep("Counting the deliveries", () => api.query(id, "SELECT count(*) AS n FROM deliveries"));
  if (n > REBUILD_SAFE_DELIVERIES) {
    fail(
      `Upgrading the D1 database ${options.names.database}`,
      `Migration ${REBUILD_MIGRATION} rebuilds the deliveries and events tables in one query; this database has ${n.toLocaleString("en")} deliveries, more than the ${REBUILD_SAFE_DELIVERIES.toLocaleString("en")} it is safe for (D1 stops a query after 30 s).`,
      `Run \`${deployCommand(options, "--upgrade-in-batches")}\`: it moves the rows over in chunks that each take a few seconds, keeps every delivery and event, and can be stopped and run again (${LARGE_DATABASE}). Nothing was changed.`,
    );
  }
  return false;
}

/** Every pending migration, the rebuild in batches first when `inBatches`; `config` is already written. */
export async function applyMigrations(options, { apiToken, accountId }, database, config, inBatches) {
  if (inBatches && !database.applied.includes(BEFORE_REBUILD)) await applyBeforeRebuild(options, config);
  if (inBatches) await upgradeBatches(options, { token: apiToken, accountId, databaseId: database.id });
  await step("Applying the remote D1 migrations", async () => {
    const result = await run("d1", "migrations", "apply", "DB", "--remote", "--config", configPath(options.name));
    if (!result.ok) fail("Applying the remote D1 migrations", result.said);
    return /no migrations to apply/i.test(result.said) ? "already up to date" : "applied";
  });
}

/** The migrations before 0010, on their own: wrangler applies every pending one, so they get a folder of their own. */
async function applyBeforeRebuild({ base, name }, config) {
  const earlierDir = beforeRebuildMigrationsDir(name);
  rmSync(earlierDir, { recursive: true, force: true });
  mkdirSync(earlierDir, { recursive: true });
  for (const file of migrationFiles(base).filter((f) => f < REBUILD_MIGRATION)) {
    copyFileSync(path.join(root, base.d1_databases[0].migrations_dir, file), path.join(earlierDir, file));
  }
  const earlierConfig = beforeRebuildConfigPath(name);
  writeConfig(earlierConfig, { ...config, d1_databases: [{ ...config.d1_databases[0], migrations_dir: earlierDir }] });
  await step("Applying the remote D1 migrations before 0010", async () => {
    const result = await run("d1", "migrations", "apply", "DB", "--remote", "--config", earlierConfig);
    if (!result.ok) fail("Applying the remote D1 migrations before 0010", result.said);
    return "applied";
  });
}

async function upgradeBatches(options, database) {
  console.log(`→ Upgrading the D1 database ${options.names.database} to ${REBUILD_MIGRATION} in batches (${LARGE_DATABASE})…`);
  try {
    await upgradeInBatches({ exec: apiRunner(database), log: (line) => console.log(`    ${line}`) });
  } catch (error) {
    fail(
      `Upgrading the D1 database ${options.names.database} in batches`,
      error instanceof Error ? error.message : String(error),
      `Run \`${deployCommand(options, "--upgrade-in-batches")}\` again: it goes on where it stopped. Nothing is lost, and the old code keeps serving meanwhile.`,
    );
  }
}

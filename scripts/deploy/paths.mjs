// Where the deploy reads and writes: the project, and the folder of its own files (the
// config it hands wrangler and the kept secrets).
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "../..");
// $DEPLOY_STATE_DIR lets the tests use their own.
export const deployDir = process.env.DEPLOY_STATE_DIR || path.join(root, ".wrangler", "deploy");

/** wrangler.toml with this deployment's names, ids and addresses: every later wrangler call uses it. */
export const configPath = (name) => path.join(deployDir, `wrangler.${name}.json`);
/** Generated secrets, kept from before the upload until the deploy has finished. */
export const keptSecretsPath = (name) => path.join(deployDir, `secrets.${name}.json`);
/** The config and migrations folder that apply the migrations before 0010 on their own. */
export const beforeRebuildConfigPath = (name) => path.join(deployDir, `wrangler.${name}.before-0010.json`);
export const beforeRebuildMigrationsDir = (name) => path.join(deployDir, `migrations-before-0010.${name}`);

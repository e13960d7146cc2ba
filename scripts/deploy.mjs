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
// and a re-run uses those same values instead of making new ones. The steps are in
// scripts/deploy/, by what they touch.
import { checkLogin, readAccount } from "./deploy/account.mjs";
import { checkAddresses, liveAddresses } from "./deploy/addresses.mjs";
import { deployConfig, writeConfig } from "./deploy/config.mjs";
import { applyMigrations, rebuildInBatches } from "./deploy/migrations.mjs";
import { readOptions } from "./deploy/options.mjs";
import { configPath, keptSecretsPath } from "./deploy/paths.mjs";
import { announce, printConnectPortal, printNewSecrets, printRotationDone } from "./deploy/report.mjs";
import { ensureDatabase, ensureQueues } from "./deploy/resources.mjs";
import { forgetKeptSecrets, removeOnExit, temporarySecretsFile } from "./deploy/secrets.mjs";
import { Stop } from "./deploy/steps.mjs";
import { checkSecrets, prepareUpload, uploadWorker } from "./deploy/upload.mjs";

const options = readOptions();
const keptFile = keptSecretsPath(options.name);
const secretsFile = temporarySecretsFile();
removeOnExit(secretsFile, keptFile);

try {
  await deploy();
} catch (error) {
  if (!(error instanceof Stop)) throw error;
  process.exitCode = 1;
} finally {
  secretsFile.remove();
}

async function deploy() {
  announce(options);
  // 1. Who is deploying, and the reads that change nothing.
  const login = await checkLogin();
  const account = await readAccount(options, login.api);
  // 2-4. The addresses, before anything is created; then the queues and the database.
  await checkAddresses(options, login.accountId, account);
  await ensureQueues(options, account.queueInfos);
  const database = await ensureDatabase(options, login.api, account.databaseList);
  // 5-7. The deploy's config, the secrets checked, and the migrations before the code that needs them.
  const config = deployConfig(options, database.id);
  const { present, workerExists } = await checkSecrets(options, account.secretList);
  const inBatches = await rebuildInBatches(options, login.api, database);
  writeConfig(configPath(options.name), config);
  await applyMigrations(options, login, database, config, inBatches);
  // 8-9. The secrets to upload, kept before the worker goes up with them.
  const secrets = prepareUpload(options, present, config, keptFile);
  const output = await uploadWorker(options, secrets, { workerExists, keptFile, secretsFile });
  // 10. What the admin does next, at the address the worker really has.
  if (options.rotateKey) printRotationDone(options);
  printNewSecrets(secrets);
  forgetKeptSecrets(keptFile);
  printConnectPortal(options, liveAddresses(options, account.subdomain, output), secrets.tokens);
}

// Steps 6, 8 and 9: the worker's secrets and its upload. The secrets are checked (and a key
// rotation refused) before anything changes; the missing ones are generated, or taken from
// a deploy that did not finish, and go up in the same upload as the worker.
import { withPreviousKey, writeConfig } from "./config.mjs";
import { configPath } from "./paths.mjs";
import { keepSecrets, newSecret, printKeptSecrets, readKeptSecrets, SECRETS } from "./secrets.mjs";
import { fail, Stop, step } from "./steps.mjs";
import { jsonIn, run } from "./wrangler.mjs";

/** @returns {Promise<{ present: Set<string>, workerExists: boolean }>} present: the names of the worker's secrets */
export async function checkSecrets({ names, rotateKey }, secretList) {
  let present = new Set();
  let workerExists = true;
  await step("Checking the worker's secrets", async () => {
    if (secretList.ok) present = new Set(jsonIn(secretList.out).map((s) => s.name));
    else if (/not found|does not exist|\[code: 10007\]/i.test(secretList.said)) workerExists = false;
    else fail("Checking the worker's secrets", secretList.said);
    const missing = SECRETS.filter((s) => !present.has(s));
    return missing.length ? `to create: ${missing.join(", ")}` : "all three exist, kept";
  });
  if (rotateKey && !present.has("ENCRYPTION_KEY")) {
    fail(
      "Rotating ENCRYPTION_KEY",
      `The worker ${names.worker} has no ENCRYPTION_KEY yet.`,
      "Deploy it first (`npm run deploy` creates the key); there is nothing to rotate.",
    );
  }
  if (rotateKey && present.has("ENCRYPTION_KEY_PREVIOUS")) {
    fail(
      "Rotating ENCRYPTION_KEY",
      `The worker ${names.worker} still has an ENCRYPTION_KEY_PREVIOUS: the last rotation is not finished.`,
      `Wait until the sweeper logs \`reencrypted: 0\` (\`npx wrangler tail ${names.worker}\`), then \`npx wrangler secret delete ENCRYPTION_KEY_PREVIOUS --name ${names.worker}\`, then rotate again. Rotating now would make the values still under the oldest key unreadable.`,
    );
  }
  return { present, workerExists };
}

/**
 * The values to upload: the missing secrets and, for a rotation, a new key (with the config
 * that keeps the old one). The generated ones are kept in `keptFile` before it returns.
 * @returns {{ upload: Record<string, string>, tokens: Record<string, string>, recovered: string[] }}
 *   tokens: those to show the user (generated now, or by a deploy that did not finish)
 */
export function prepareUpload(options, present, config, keptFile) {
  const kept = readKeptSecrets(keptFile);
  const generated = {};
  for (const secret of SECRETS.filter((s) => !present.has(s))) generated[secret] = kept[secret] ?? newSecret(secret);
  const recovered = SECRETS.filter((s) => present.has(s) && kept[s] !== undefined);
  const upload = { ...generated };
  if (options.rotateKey) {
    upload.ENCRYPTION_KEY = newSecret("ENCRYPTION_KEY");
    writeConfig(configPath(options.name), withPreviousKey(config, options.base));
  }
  const tokens = { ...Object.fromEntries(recovered.map((s) => [s, kept[s]])), ...generated };
  if (Object.keys(generated).length) keepSecrets(keptFile, { ...kept, ...generated });
  return { upload, tokens, recovered };
}

/**
 * `wrangler deploy` with the secrets in the same upload; what it said. On a failure the
 * tokens are printed with where they are kept. secretsFile: the temporary file handed to
 * `wrangler deploy --secrets-file`, removed as soon as wrangler is done with it.
 */
export async function uploadWorker(options, { upload, tokens }, { workerExists, keptFile, secretsFile }) {
  let output = "";
  try {
    await step(`Deploying the worker ${options.names.worker}`, async () => {
      const file = Object.keys(upload).length ? secretsFile.write(upload) : undefined;
      try {
        const deployed = await run("deploy", "--config", configPath(options.name), ...(file ? ["--secrets-file", file] : []));
        output = deployed.said;
        if (!deployed.ok) fail(`Deploying the worker ${options.names.worker}`, deployed.said);
      } finally {
        secretsFile.remove();
      }
      return "deployed";
    });
  } catch (error) {
    if (error instanceof Stop && Object.keys(tokens).length)
      printKeptSecrets(options, keptFile, tokens, /Uploaded |Current Version ID/.test(output) || !workerExists);
    throw error;
  }
  return output;
}

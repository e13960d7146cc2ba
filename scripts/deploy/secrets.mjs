// The secrets the deploy generates, and the two files they pass through. The rule: a
// generated secret is never lost. It is kept in a file only the user can read from before
// the upload until the deploy has finished, printed if a later step fails, and a re-run
// uploads those same values instead of new ones. The file handed to
// `wrangler deploy --secrets-file` lives only for the upload.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deployCommand } from "./options.mjs";

/** The secrets every deployment has; those missing are generated. */
export const SECRETS = ["ADMIN_TOKEN", "INTAKE_TOKEN", "ENCRYPTION_KEY"];

export function newSecret(secret) {
  return secret.startsWith("ENCRYPTION_KEY") ? randomBytes(32).toString("base64") : randomBytes(24).toString("base64url");
}

/** The values an unfinished deploy kept, or none. */
export function readKeptSecrets(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return {};
  }
}

export function keepSecrets(file, values) {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Once the deploy has finished: the worker has them and they have been printed. */
export function forgetKeptSecrets(file) {
  rmSync(file, { force: true });
}

/** After a failed upload or a later failed step: the tokens, and where they are kept until a deploy finishes. */
export function printKeptSecrets(options, file, tokens, mayBeUploaded) {
  console.error(`
The secrets generated for this deployment are not lost. ${mayBeUploaded ? "The worker may already have them." : "They did not reach Cloudflare yet."}
The next \`${deployCommand(options)}\` uploads these same values (never new ones) and prints them again;
until a deploy finishes they are kept in ${file} (readable only by you).`);
  if (tokens.ADMIN_TOKEN) console.error(`  ADMIN_TOKEN   ${tokens.ADMIN_TOKEN}`);
  if (tokens.INTAKE_TOKEN) console.error(`  INTAKE_TOKEN  ${tokens.INTAKE_TOKEN}`);
}

/** The temporary secrets file for one upload, in a folder of its own under the system's temp folder. */
export function temporarySecretsFile() {
  let dir;
  return {
    /** @returns {string} the file, readable only by the user */
    write(values) {
      dir = mkdtempSync(path.join(tmpdir(), "dispatcher-secrets-"));
      const file = path.join(dir, "secrets.json");
      writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
      return file;
    },
    remove() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

/** The upload file goes on every way out (besides the deploy's own `finally`): an exit, and Ctrl-C or a kill. */
export function removeOnExit(secretsFile, keptFile) {
  process.on("exit", secretsFile.remove);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      secretsFile.remove();
      console.error(`\n✗ Stopped (${signal}).${existsSync(keptFile) ? ` Generated secrets are kept in ${keptFile}.` : ""}`);
      process.exit(130);
    });
  }
}

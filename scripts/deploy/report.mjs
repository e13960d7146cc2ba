// What the deploy tells the admin before its first step and after its last: what it is
// about to deploy, and then what to do next at the address the worker really has.
import { warn } from "./steps.mjs";

// The portal's webhook events, all of which the dispatcher takes.
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

export function announce({ name, names, domain, workersDev, base }) {
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
}

export function printRotationDone({ names }) {
  console.log(`
ENCRYPTION_KEY was replaced, and the old key is now ENCRYPTION_KEY_PREVIOUS. The sweeper
re-encrypts every stored value under the new key within a few minutes and logs
\`reencrypted: 0\` when done (npx wrangler tail ${names.worker}); then run
  npx wrangler secret delete ENCRYPTION_KEY_PREVIOUS --name ${names.worker}`);
}

/** The tokens, this once (the encryption key is never shown); nothing when there are none. */
export function printNewSecrets({ tokens, recovered }) {
  if (!Object.keys(tokens).length) return;
  console.log(`
New secrets ${recovered.length ? "(from the deploy that did not finish) " : ""}are in the worker. They are shown this once: keep them in your
password manager (Cloudflare stores them encrypted and never shows them again).`);
  if (tokens.ADMIN_TOKEN) console.log(`  ADMIN_TOKEN   ${tokens.ADMIN_TOKEN}   signs in to the admin UI and the /portal-api`);
  if (tokens.INTAKE_TOKEN) console.log(`  INTAKE_TOKEN  ${tokens.INTAKE_TOKEN}   the portal sends it with each event`);
  if (tokens.ENCRYPTION_KEY) console.log("  ENCRYPTION_KEY was created too; it stays in Cloudflare (rotate it with --rotate-key).");
}

/** What to paste into the portal, and where the admin UI and the logs are. */
export function printConnectPortal({ names, domain }, { workersDevUrl, origin }, tokens) {
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

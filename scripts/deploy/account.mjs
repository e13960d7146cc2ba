// Step 1: who is deploying, and then every read that changes nothing, side by side, so the
// steps after it can refuse what they must before anything is created.
import { cloudflareApi } from "../lib/cloudflare.mjs";
import { allQueues } from "./options.mjs";
import { apiStep, fail, step } from "./steps.mjs";
import { jsonIn, run } from "./wrangler.mjs";

const CHECKING = "Checking the Cloudflare login";

/** The account to deploy to, and the API with wrangler's own token (API token or OAuth login). */
export async function checkLogin() {
  let login;
  await step(CHECKING, async () => {
    const [who, token] = await Promise.all([run("whoami", "--json"), run("auth", "token", "--json")]);
    if (!who.ok) fail(CHECKING, who.said);
    let me;
    try {
      me = jsonIn(who.out);
    } catch {
      fail(CHECKING, who.said);
    }
    if (me.loggedIn === false) fail(CHECKING, "You are not authenticated. Please run `wrangler login`.");
    const accountId = process.env.CLOUDFLARE_ACCOUNT_ID || (me.accounts?.length === 1 ? me.accounts[0].id : undefined);
    if (!accountId) fail(CHECKING, "You have access to more than one account.");
    if (!token.ok) fail(CHECKING, token.said);
    const credentials = jsonIn(token.out);
    if (!credentials.token) fail(CHECKING, "Log in with an API token or `wrangler login` (a global API key is not supported here).");
    login = { api: cloudflareApi(credentials.token, accountId), apiToken: credentials.token, accountId };
    return me.email ? `logged in as ${me.email}` : "logged in";
  });
  return login;
}

/**
 * What the account holds under this deployment's names: wrangler's answers (queue infos,
 * in allQueues' order; the databases; the worker's secrets) as they are, for the step
 * that judges each, and the API's (the workers.dev subdomain, who serves the domain).
 */
export async function readAccount({ names, domain, workersDev }, api) {
  const [queueInfos, databaseList, secretList, subdomain, domainOwner] = await Promise.all([
    Promise.all(allQueues(names).map((queue) => run("queues", "info", queue))),
    run("d1", "list", "--json"),
    run("secret", "list", "--name", names.worker, "--format", "json"),
    apiStep("Checking the account's workers.dev subdomain", () => (workersDev ? api.subdomain() : null)),
    apiStep(`Checking who serves ${domain}`, () => (domain ? api.domainOwner(domain) : null)),
  ]);
  return { queueInfos, databaseList, secretList, subdomain, domainOwner };
}

// The worker's addresses: its workers.dev one and its custom domain. Both are checked
// before anything is created (step 2), and the one it really has is the one printed.
import { fail, step } from "./steps.mjs";

/** Refuses an account without a workers.dev subdomain (`wrangler deploy` would stop after the upload) and a domain another worker serves. */
export async function checkAddresses({ names, domain, workersDev }, accountId, { subdomain, domainOwner }) {
  if (workersDev) {
    await step("The account's workers.dev subdomain", async () => {
      if (subdomain) return `${subdomain}.workers.dev`;
      fail(
        "Checking the account's workers.dev subdomain",
        "This account has no workers.dev subdomain yet.",
        `Choose one in the Cloudflare dashboard (Workers & Pages; https://dash.cloudflare.com/${accountId}/workers/onboarding), then run \`npm run deploy\` again. Or serve only a custom domain: \`npm run deploy -- --domain <host> --no-workers-dev\`. Nothing was created.`,
      );
    });
  }
  if (domain) {
    await step(`Custom domain ${domain}`, async () => {
      if (!domainOwner) return "free";
      if (domainOwner === names.worker) return "already this deployment's, kept";
      fail(
        `Checking the custom domain ${domain}`,
        `${domain} is the custom domain of the worker "${domainOwner}".`,
        `Without a terminal, wrangler would move it to "${names.worker}" without asking. Choose another host name, or remove it from "${domainOwner}" first (dashboard: Workers & Pages → ${domainOwner} → Settings → Domains & Routes).`,
      );
    });
  }
}

/** The deployed worker's addresses: its workers.dev one as `wrangler deploy` printed it, and the one the portal is sent to. */
export function liveAddresses({ names, domain, workersDev }, subdomain, deployOutput) {
  const workersDevUrl = workersDev
    ? (deployOutput.match(/https:\/\/[\w.-]+\.workers\.dev/)?.[0] ?? `https://${names.worker}.${subdomain}.workers.dev`)
    : undefined;
  return { workersDevUrl, origin: domain ? `https://${domain}` : workersDevUrl };
}

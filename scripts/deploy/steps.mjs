// How the deploy shows its steps: a line each, a warning that does not stop it, and a
// failure that quotes wrangler (or the API), says what to do, and stops the deploy.

/** Thrown by `fail` once it has said why: the deploy ends with exit code 1, nothing more printed. */
export class Stop extends Error {}

/** Prints `→ title… ` and then what `fn` returns. */
export async function step(title, fn) {
  process.stdout.write(`→ ${title}… `);
  console.log(await fn());
}

export function warn(lines) {
  console.log(`\n  ⚠ ${lines.join("\n    ")}\n`);
}

/** @returns {never} */
export function fail(title, said, what = advice(said)) {
  const lines = said.split("\n").filter((line) => line.trim());
  console.error(
    `\n✗ ${title} failed.\n\n${lines
      .slice(-15)
      .map((l) => `  ${l}`)
      .join("\n")}\n\nWhat to do: ${what}`,
  );
  throw new Stop();
}

/** `fn`'s result; an error from the Cloudflare API fails the step `title`. */
export async function apiStep(title, fn) {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Stop) throw error;
    fail(title, error instanceof Error ? error.message : String(error));
  }
}

/** What to do about a failure, from what wrangler (or the API) said. */
function advice(said) {
  if (/not authenticated|not logged in|wrangler login|"loggedIn": ?false|non-interactive environment/i.test(said)) {
    return "Log in with `npx wrangler login`, or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, then run `npm run deploy` again.";
  }
  if (/more than one account/i.test(said)) return "Set CLOUDFLARE_ACCOUNT_ID to the account to deploy to, then run `npm run deploy` again.";
  if (/\[code: 10000\]|authentication error|permission|forbidden|unauthori[sz]ed/i.test(said)) {
    return "The API token lacks a permission this step needs. It needs Workers Scripts Edit, D1 Edit, Queues Edit and Account Settings Read (and Workers Routes Edit for --domain); create one with those, set CLOUDFLARE_API_TOKEN, and run `npm run deploy` again.";
  }
  if (/cron triggers/i.test(said)) {
    return "The account has no cron trigger left (the Free plan allows 5 per account, one per deployment here). Remove a deployment you no longer need (docs/deploy.md, Removing everything) or move to the Paid plan, then run `npm run deploy` again.";
  }
  if (/already (taken|exists|in use)|name.*(taken|in use)/i.test(said)) {
    return "That name is already used in this account by something else. Choose another with `npm run deploy -- --name <name>`.";
  }
  return "Fix what wrangler said above and run `npm run deploy` again: every step already done is skipped.";
}

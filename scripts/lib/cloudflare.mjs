// The few Cloudflare API reads `npm run deploy` needs that no wrangler command answers: the
// account's workers.dev subdomain, who holds a custom domain, and what a D1 database holds.
// It authenticates the way wrangler does (`wrangler auth token --json`: the API token, or
// the OAuth login's token) and talks to the same API ($CLOUDFLARE_API_BASE_URL or
// Cloudflare's).

export class ApiError extends Error {
  /** @param {string} path @param {number} status @param {{ code?: number, message?: string }[]} errors */
  constructor(path, status, errors) {
    super(`A request to the Cloudflare API (${path}) failed: ${errors.map((e) => `${e.message} [code: ${e.code}]`).join("; ") || `HTTP ${status}`}`);
    this.status = status;
    this.codes = errors.map((e) => e.code);
  }
}

/** @param {string} token @param {string} accountId */
export function cloudflareApi(token, accountId) {
  const base = (process.env.CLOUDFLARE_API_BASE_URL ?? "https://api.cloudflare.com/client/v4").replace(/\/$/, "");
  const account = `/accounts/${accountId}`;

  async function call(path, init = {}) {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...init.headers },
      signal: AbortSignal.timeout(30_000),
    });
    const body = await response.json().catch(() => ({ success: false, errors: [] }));
    if (!body.success) throw new ApiError(path, response.status, body.errors ?? []);
    return body.result;
  }

  return {
    /** The account's workers.dev subdomain ("example" for example.workers.dev), or null if it has none yet. */
    async subdomain() {
      try {
        return (await call(`${account}/workers/subdomain`)).subdomain;
      } catch (error) {
        if (error instanceof ApiError && error.codes.includes(10007)) return null;
        throw error;
      }
    },
    /** The worker a custom domain serves now, if any. */
    async domainOwner(hostname) {
      const domains = await call(`${account}/workers/domains?hostname=${encodeURIComponent(hostname)}`);
      return domains.find((d) => d.hostname === hostname)?.service ?? null;
    },
    /** The rows a read-only SQL statement returns from a D1 database. */
    async query(databaseId, sql) {
      const [result] = await call(`${account}/d1/database/${databaseId}/query`, { method: "POST", body: JSON.stringify({ sql }) });
      return result.results;
    },
  };
}

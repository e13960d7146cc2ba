// A stand-in for the part of the Cloudflare API that `npm run deploy` reaches through the
// real wrangler (4.86): point wrangler at it with CLOUDFLARE_API_BASE_URL. It keeps one
// account in memory (queues, D1 databases and what their migrations did, workers with their
// bindings, secrets, subdomain flag, schedules, custom domains and queue consumers) and
// logs every request. It can be told that the account has no workers.dev subdomain, that a
// name is already taken by something else, or that one step fails.
//
// The endpoints and their answers were found by reading wrangler-dist/cli.js and by logging
// what wrangler sends; where wrangler only needs a field or two, only those are answered.
// This file routes the requests; the answers with rules of their own (a D1 query, a queue
// consumer, custom domains, an upload) are in cloudflare-api-answers.mjs.
import http from "node:http";
import { d1Query, databaseView, fail, id, json, notFound, ok, page, putConsumer, putDomains, queueView, upload } from "./cloudflare-api-answers.mjs";

const ACCOUNT = "acc123";

/** @typedef {{ name: string, type: string, text?: string, [key: string]: unknown }} Binding */
/**
 * @typedef {object} Worker
 * @property {Binding[]} bindings the latest version's bindings (secrets with their values)
 * @property {number} versions
 * @property {boolean} workersDev
 * @property {boolean} previews
 * @property {string[]} crons
 * @property {string} [mainModule]
 */
/**
 * @typedef {object} Account
 * @property {string | null} subdomain the account's workers.dev subdomain, or none yet
 * @property {{ queue_id: string, queue_name: string, created_on: string, consumers: { script: string, type: string, settings: object }[], producers: { script: string, type: string }[] }[]} queues
 * @property {{ uuid: string, name: string, created_at: string, migrations: string[], tables: string[], deliveries?: number }[]} databases
 * @property {Record<string, Worker>} workers
 * @property {{ id: string, hostname: string, service: string, zone_name: string }[]} domains
 * @property {string[]} zones the zones (domains) the account has, for custom domains
 */

/**
 * @param {{ subdomain?: string | null, fail?: string, zones?: string[] }} [options]
 *   fail: a step that answers an error ("schedules", "consumers", "upload", "domains", …)
 */
export async function startCloudflareApi(options = {}) {
  /** @type {Account} */
  const account = {
    subdomain: options.subdomain === undefined ? "example" : options.subdomain,
    queues: [],
    databases: [],
    workers: {},
    domains: [],
    zones: options.zones ?? ["example.com"],
  };
  /** @type {{ method: string, path: string }[]} */
  const requests = [];
  const faults = { fail: options.fail };

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/^\/client\/v4/, "");
    requests.push({ method: req.method ?? "GET", path: `${path}${url.search}` });
    let answer;
    try {
      answer = await route(req.method ?? "GET", path, url.searchParams, body, req.headers["content-type"] ?? "");
    } catch (error) {
      answer = fail(500, 10000, `stand-in API: ${error instanceof Error ? error.stack : error}`);
    }
    const { status = 200, json: payload, raw } = answer;
    res.writeHead(status, { "content-type": raw === undefined ? "application/json" : "application/octet-stream" });
    res.end(raw ?? JSON.stringify(payload));
  });

  /**
   * @param {string} method
   * @param {string} path
   * @param {URLSearchParams} query
   * @param {Buffer} body
   * @param {string} type
   */
  async function route(method, path, query, body, type) {
    const at = (pattern) =>
      path
        .match(new RegExp(`^${pattern.replaceAll("{}", "([^/]+)")}$`))
        ?.slice(1)
        .map(decodeURIComponent);
    /** @type {string[]} */
    let m = [];
    /** Whether the path matches the pattern ({} a path segment) and the method, if given; its segments in m. */
    const hit = (pattern, verb) => {
      const found = at(pattern);
      if (!found || (verb && verb !== method)) return false;
      m = found;
      return true;
    };
    // Who is deploying.
    if (method === "GET" && path === "/user/tokens/verify") return ok({ id: "token", status: "active" });
    if (method === "GET" && path === "/user") return ok({ id: "user", email: "admin@example.com" });
    if (method === "GET" && (path === "/accounts" || path === "/memberships"))
      return page(path === "/accounts" ? [{ id: ACCOUNT, name: "Example" }] : [{ id: "m1", account: { id: ACCOUNT, name: "Example" } }]);
    const a = `/accounts/${ACCOUNT}`;
    if (!path.startsWith(`${a}/`)) return notFound();
    const failing = (step) => faults.fail === step;

    // The account's workers.dev subdomain (wrangler asks for it before it enables one).
    if (method === "GET" && path === `${a}/workers/subdomain`)
      return account.subdomain ? ok({ subdomain: account.subdomain }) : fail(404, 10007, "This account does not have a workers.dev subdomain.");

    // Queues.
    if (hit(`${a}/queues`)) {
      if (method === "GET") {
        const names = query.getAll("name");
        return page(account.queues.filter((q) => names.length === 0 || names.includes(q.queue_name)).map(queueView));
      }
      if (method === "POST") {
        const { queue_name } = json(body);
        if (failing("queues")) return fail(403, 10000, "Authentication error");
        if (account.queues.some((q) => q.queue_name === queue_name)) return fail(409, 11009, "Queue name already taken");
        const queue = { queue_id: id(), queue_name, created_on: new Date().toISOString(), consumers: [], producers: [] };
        account.queues.push(queue);
        return ok(queueView(queue));
      }
    }
    if (hit(`${a}/queues/{}/consumers`, "POST")) return putConsumer(account, faults, m[0], json(body));
    if (hit(`${a}/queues/{}/consumers/{}`, "PUT")) return putConsumer(account, faults, m[0], json(body));

    // D1.
    if (path === `${a}/d1/database` && method === "GET") {
      const size = Number(query.get("per_page") ?? 10);
      const from = (Number(query.get("page") ?? 1) - 1) * size;
      return ok(account.databases.slice(from, from + size).map(databaseView));
    }
    if (path === `${a}/d1/database` && method === "POST") {
      const { name } = json(body);
      if (account.databases.some((d) => d.name === name)) return fail(400, 7502, "A database with that name already exists");
      const database = { uuid: crypto.randomUUID(), name, created_at: new Date().toISOString(), migrations: [], tables: [] };
      account.databases.push(database);
      return ok(databaseView(database));
    }
    if (hit(`${a}/d1/database/{}`, "GET")) {
      const database = account.databases.find((d) => d.uuid === m[0] || d.name === m[0]);
      return database ? ok(databaseView(database)) : fail(404, 7404, "The database could not be found");
    }
    if (hit(`${a}/d1/database/{}/query`, "POST")) return d1Query(account, faults, m[0], body);

    // Custom domains, account-wide.
    if (path === `${a}/workers/domains` && method === "GET")
      return ok(account.domains.filter((d) => !query.get("hostname") || d.hostname === query.get("hostname")));

    // Workers.
    if (hit(`${a}/workers/services/{}`, "GET")) {
      const worker = account.workers[m[0]];
      if (!worker) return fail(404, 10090, "workers.api.error.service_not_found");
      return ok({
        id: m[0],
        default_environment: {
          environment: "production",
          script: { tag: `tag-${m[0]}`, tags: [], last_deployed_from: "wrangler", migration_tag: worker.migrationTag },
        },
      });
    }
    if (path === `${a}/workers/scripts` && method === "GET")
      return ok(Object.entries(account.workers).map(([name, w]) => ({ id: name, migration_tag: w.migrationTag })));
    if (hit(`${a}/workers/scripts/{}/secrets`, "GET")) {
      const worker = account.workers[m[0]];
      if (!worker) return fail(404, 10007, `This Worker does not exist on your account. [code: 10007]`);
      return ok(worker.bindings.filter((b) => b.type === "secret_text").map((b) => ({ name: b.name, type: "secret_text" })));
    }
    if (hit(`${a}/workers/scripts/{}/assets-upload-session`, "POST")) return ok({ jwt: "assets-completion-token", buckets: [] });
    if (hit(`${a}/workers/scripts/{}`, "PUT")) return upload(account, faults, m[0], body, type, false);
    if (hit(`${a}/workers/scripts/{}/versions`, "POST")) return upload(account, faults, m[0], body, type, true);
    if (hit(`${a}/workers/scripts/{}/deployments`, "GET")) return ok({ deployments: [] });
    if (hit(`${a}/workers/scripts/{}/deployments`, "POST")) return ok({ id: id(), strategy: "percentage", versions: json(body).versions });
    if (hit(`${a}/workers/scripts/{}/script-settings`, "PATCH")) return ok(json(body));
    if (hit(`${a}/workers/scripts/{}/settings`, "GET")) return ok({ bindings: account.workers[m[0]]?.bindings ?? [] });
    if (hit(`${a}/workers/scripts/{}/subdomain`)) {
      const worker = account.workers[m[0]];
      if (!worker) return fail(404, 10007, "This Worker does not exist on your account.");
      if (method === "POST") {
        const { enabled, previews_enabled } = json(body);
        if (failing("subdomain")) return fail(400, 10000, "stand-in: enabling workers.dev failed");
        worker.workersDev = enabled;
        worker.previews = previews_enabled ?? enabled;
      }
      return ok({ enabled: worker.workersDev, previews_enabled: worker.previews });
    }
    if (hit(`${a}/workers/scripts/{}/schedules`, "PUT")) {
      const worker = account.workers[m[0]];
      if (failing("schedules")) return fail(400, 100117, "You have exceeded the limit of 5 cron triggers.");
      worker.crons = json(body).map((s) => s.cron);
      return ok({ schedules: worker.crons.map((cron) => ({ cron })) });
    }
    if (hit(`${a}/workers/scripts/{}/domains/records`, "PUT")) return putDomains(account, faults, m[0], json(body));
    return notFound();
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    accountId: ACCOUNT,
    account,
    requests,
    faults,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

// `node test/scripts/cloudflare-api.mjs`: run it on its own and log what wrangler asks for.
if (import.meta.url === `file://${process.argv[1]}`) {
  const api = await startCloudflareApi({ subdomain: process.env.SUBDOMAIN === "none" ? null : "example" });
  console.log(`CLOUDFLARE_API_BASE_URL=${api.url}`);
  setInterval(() => {
    while (api.requests.length) {
      const r = api.requests.shift();
      console.log(r?.method, r?.path);
    }
  }, 200);
}

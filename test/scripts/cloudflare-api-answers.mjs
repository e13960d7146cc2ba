// The stand-in Cloudflare API's answers (cloudflare-api.mjs routes the requests to them):
// the API's envelope, and the answers that follow rules of their own: a D1 query (what the
// migrations did), a queue's consumer, a worker's custom domains and a worker upload (which
// bindings the new version keeps). Each is given the account it reads and changes, and the
// step told to fail (`faults.fail`).

/** @typedef {import("./cloudflare-api.mjs").Account} Account */
/** @typedef {import("./cloudflare-api.mjs").Binding} Binding */
/** @typedef {{ fail?: string }} Faults */

export const ok = (result, extra = {}) => ({ json: { success: true, errors: [], messages: [], result, ...extra } });
export const fail = (status, code, message) => ({ status, json: { success: false, errors: [{ code, message }], messages: [], result: null } });
export const notFound = () => fail(404, 7003, "Could not route to the path, perhaps your object identifier is invalid?");
export const page = (list) => ok(list, { result_info: { page: 1, per_page: 1000, count: list.length, total_count: list.length, total_pages: 1 } });
export const json = (body) => JSON.parse(body.toString("utf8") || "null");
export const id = () => crypto.randomUUID().replaceAll("-", "");

export function queueView(queue) {
  return {
    ...queue,
    modified_on: queue.created_on,
    producers_total_count: queue.producers.length,
    consumers_total_count: queue.consumers.length,
  };
}

export function databaseView(database) {
  return {
    uuid: database.uuid,
    name: database.name,
    created_at: database.created_at,
    version: "production",
    num_tables: database.tables.length,
    file_size: 12288,
  };
}

/** A statement sent to a D1 database: the reads the deploy makes, and what wrangler's migrations write. */
export function d1Query(/** @type {Account} */ account, /** @type {Faults} */ faults, databaseId, body) {
  const database = account.databases.find((d) => d.uuid === databaseId);
  if (!database) return fail(404, 7404, "The database could not be found");
  const { sql } = json(body);
  const meta = { duration: 1, rows_read: 0, rows_written: 0, changes: 0, size_after: 12288 };
  const rows = (results) => ok([{ results, success: true, meta }]);
  if (/FROM sqlite_master/i.test(sql)) return rows(database.tables.map((name) => ({ name })));
  if (/FROM d1_migrations/i.test(sql) && !database.tables.includes("d1_migrations")) return fail(400, 7500, "no such table: d1_migrations: SQLITE_ERROR");
  if (/^SELECT name FROM d1_migrations/i.test(sql)) return rows(database.migrations.map((name) => ({ name })));
  if (/count\(\*\) AS n FROM deliveries/i.test(sql)) return rows([{ n: database.deliveries ?? 0 }]);
  if (/^\s*SELECT \*\s+FROM d1_migrations/i.test(sql))
    return ok([{ results: database.migrations.map((name, i) => ({ id: i + 1, name, applied_at: "2026-01-01 00:00:00" })), success: true, meta }]);
  if (/CREATE TABLE IF NOT EXISTS d1_migrations/i.test(sql)) {
    if (!database.tables.includes("d1_migrations")) database.tables.push("d1_migrations");
    return ok([{ results: [], success: true, meta }]);
  }
  const migration = sql.match(/INSERT INTO d1_migrations \(name\)\s*values \('([^']+)'\)/i)?.[1];
  if (migration) {
    if (faults.fail === "migrations") return fail(400, 7500, "D1_ERROR: stand-in refuses the migration: SQLITE_ERROR");
    database.migrations.push(migration);
    for (const [, table] of sql.matchAll(/CREATE TABLE [`"]?(\w+)/gi)) if (!database.tables.includes(table)) database.tables.push(table);
    return ok([{ results: [], success: true, meta }]);
  }
  return ok([{ results: [], success: true, meta }]);
}

/** A queue's one consumer: a worker's, and never a second worker's. */
export function putConsumer(/** @type {Account} */ account, /** @type {Faults} */ faults, queueId, consumer) {
  const queue = account.queues.find((q) => q.queue_id === queueId);
  if (!queue) return fail(404, 11000, "Queue not found");
  if (faults.fail === "consumers") return fail(400, 11005, "stand-in: registering the consumer failed");
  const others = queue.consumers.filter((c) => c.script !== consumer.script_name);
  if (others.length) return fail(400, 11004, "Queue already has a consumer");
  queue.consumers = [{ consumer_id: id(), script: consumer.script_name, type: "worker", settings: consumer.settings }];
  return ok(queue.consumers[0]);
}

/** A worker's custom domains: each in a zone of the account, and taken from another worker only when told to. */
export function putDomains(/** @type {Account} */ account, /** @type {Faults} */ faults, worker, { origins, override_existing_origin }) {
  if (faults.fail === "domains") return fail(400, 100116, "stand-in: the custom domain failed");
  for (const origin of origins) {
    const zone = account.zones.find((z) => origin.hostname === z || origin.hostname.endsWith(`.${z}`));
    if (!zone) return fail(400, 100117, `Hostname '${origin.hostname}' is not in a zone on this account`);
    const existing = account.domains.find((d) => d.hostname === origin.hostname);
    if (existing && existing.service !== worker && !override_existing_origin) return fail(409, 100116, "Hostname already has an origin");
    if (existing) existing.service = worker;
    else account.domains.push({ id: id(), hostname: origin.hostname, service: worker, zone_name: zone });
  }
  return ok(origins);
}

/**
 * A new version (PUT /scripts/{name} or POST /scripts/{name}/versions): its bindings, with
 * the API's rules for what is kept from the version before (keep_bindings, inherit).
 */
export async function upload(/** @type {Account} */ account, /** @type {Faults} */ faults, name, body, type, asVersion) {
  if (faults.fail === "upload") return fail(400, 10021, "stand-in: the upload failed");
  const form = await new Response(body, { headers: { "content-type": type } }).formData();
  const part = form.get("metadata");
  const metadata = JSON.parse(typeof part === "string" ? part : await (part?.text() ?? "{}"));
  const before = account.workers[name];
  if (asVersion && !before) return fail(404, 10007, "This Worker does not exist on your account.");
  const previous = before?.bindings ?? [];
  const keep = new Set(metadata.keep_bindings ?? []);
  /** @type {Binding[]} */
  const bindings = [];
  for (const binding of metadata.bindings) {
    if (binding.type === "inherit") {
      const from = previous.find((b) => b.name === (binding.old_name ?? binding.name));
      if (!from) return fail(400, 10057, `inherit binding '${binding.name}' is invalid`);
      bindings.push({ ...from, name: binding.name });
    } else bindings.push(binding);
  }
  const uploadsSecrets = bindings.some((b) => b.type === "secret_text");
  for (const binding of previous) {
    if (bindings.some((b) => b.name === binding.name)) continue;
    if (binding.type === "secret_text" && (keep.has("secret_text") || !uploadsSecrets)) bindings.push(binding);
    else if ((binding.type === "plain_text" || binding.type === "json") && keep.has(binding.type)) bindings.push(binding);
  }
  for (const queue of bindings.filter((b) => b.type === "queue")) {
    const q = account.queues.find((x) => x.queue_name === queue.queue_name);
    if (q && !q.producers.some((p) => p.script === name)) q.producers.push({ script: name, type: "worker" });
  }
  const worker = before ?? { bindings: [], versions: 0, workersDev: false, previews: false, crons: [], migrationTag: undefined };
  worker.bindings = bindings;
  worker.versions++;
  worker.mainModule = metadata.main_module;
  if (metadata.migrations?.new_tag) worker.migrationTag = metadata.migrations.new_tag;
  account.workers[name] = worker;
  const version = id();
  return asVersion
    ? ok({ id: version, number: worker.versions, resources: { script: { etag: "etag" }, bindings } })
    : ok({ id: name, etag: "etag", deployment_id: version, startup_time_ms: 5 });
}

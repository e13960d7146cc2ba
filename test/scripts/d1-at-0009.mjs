// A local D1 database at migration 0009 (wrangler's own `d1 migrations apply --local`), and
// rows as the code before 0010 wrote them (random UUID ids, and the older 32-hex-digit
// delivery ids), for the tests and measurements of migration 0010 and its batched upgrade.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
export const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
const allMigrations = () =>
  readdirSync(path.join(root, "migrations"))
    .filter((f) => f.endsWith(".sql"))
    .sort();

/** A wrangler project in `dir` whose D1 (binding DB) has the migrations before `before` applied. */
export function localD1(dir, { before = "0010" } = {}) {
  mkdirSync(path.join(dir, "migrations"), { recursive: true });
  for (const file of allMigrations().filter((f) => f < before)) copyFileSync(path.join(root, "migrations", file), path.join(dir, "migrations", file));
  writeFileSync(path.join(dir, "x.js"), "export default {}\n");
  writeFileSync(
    path.join(dir, "wrangler.json"),
    JSON.stringify({
      name: "upgrade-0010",
      main: "x.js",
      compatibility_date: "2026-04-01",
      d1_databases: [{ binding: "DB", database_name: "upgrade-0010", database_id: "00000000-0000-0000-0000-000000000000", migrations_dir: "migrations" }],
    }),
  );
  const db = project(dir);
  db.apply();
  return db;
}

/** The project `localD1` made in `dir`. */
export function project(dir) {
  const state = path.join(dir, "state");
  const config = path.join(dir, "wrangler.json");
  const wranglerSync = (...args) => {
    const run = spawnSync(wrangler, [...args, "--config", config, "--local", "--persist-to", state], { cwd: dir, env, encoding: "utf8", maxBuffer: 1 << 28 });
    if (run.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  };
  return {
    dir,
    config,
    state,
    /** Applies the migrations in the project's folder (all of them after `addMigrations`). */
    apply: () => wranglerSync("d1", "migrations", "apply", "DB"),
    /** Copies the migrations from `from` (0010 unless said) up to before `to` into the project. */
    addMigrations: (from = "0010", to = "9999") => {
      for (const file of allMigrations().filter((f) => f >= from && f < to))
        copyFileSync(path.join(root, "migrations", file), path.join(dir, "migrations", file));
    },
    /** Runs SQL through `wrangler d1 execute --local` (one transaction); each statement's rows. */
    execute: (/** @type {string} */ sql) =>
      /** @type {Record<string, any>[][]} */ (JSON.parse(wranglerSync("d1", "execute", "DB", "--json", "--command", sql)).map((r) => r.results)),
    /** The SQLite file workerd keeps the database in. */
    file: () => {
      const d1Dir = path.join(state, "v3", "d1", "miniflare-D1DatabaseObject");
      return path.join(d1Dir, readdirSync(d1Dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite") ?? "");
    },
    /** Another project with a copy of this one and its database. */
    copyTo: (/** @type {string} */ other) => {
      cpSync(dir, other, { recursive: true });
      return project(other);
    },
  };
}

const uuid =
  "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

/**
 * SQL that fills a database at 0009 with `n` events received over the 30 days before `now`,
 * oldest first, and their deliveries to `channels` channels. Plain (`varied: false`): one
 * delivered delivery per event, as measure-migration-0010.mjs always did. Varied: also
 * events with none or two, deliveries pending, retrying, held and failed, Idempotency-Keys,
 * the older 32-digit delivery ids, and deliveries whose event is gone.
 */
export function fillSql(n, { channels = 100, varied = false, now = Date.now() } = {}) {
  const span = 30 * 24 * 3_600_000;
  const step = Math.max(1, Math.floor(span / n));
  const types = ["UserRegistered", "ApplicationRegistered", "AccessRequestCreated"];
  const attempts =
    "json_array(json_object('attempt', 1, 'startedAt', received_at, 'durationMs', 20 + abs(random()) % 30, 'statusCode', 200, 'error', null, 'responseBody', 'ok'))";
  const delivery = (id, channel, status, where, later = "") => `
  INSERT INTO deliveries (id, event_id, channel_id, event_type, status, attempt_count, last_status_code, next_attempt_at, attempts, created_at, updated_at)
  SELECT ${id}, id, 'ch-' || (${channel}), type, ${status}, 1, 200,
         CASE WHEN ${status} IN ('pending', 'retrying', 'held') THEN received_at + 60000 END,
         ${attempts}, received_at${later}, received_at${later}
  FROM (SELECT rowid - 1 AS i, * FROM events) ${where} ORDER BY i;`;
  const status = varied
    ? "(CASE i % 50 WHEN 0 THEN 'pending' WHEN 1 THEN 'retrying' WHEN 2 THEN 'held' WHEN 3 THEN 'failed' WHEN 4 THEN 'cancelled' ELSE 'succeeded' END)"
    : "'succeeded'";
  return `
  INSERT INTO channels (id, name, url, secret, created_at, updated_at)
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${channels - 1})
  SELECT 'ch-' || i, 'Channel ' || i, 'https://crm.example.com/' || i, 'enc1:none:none', ${now - span}, ${now - span} FROM c;
  INSERT INTO events (id, type, body, received_at, body_hash, idempotency_key)
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})
  SELECT ${uuid}, ${varied ? `CASE i % 3 WHEN 0 THEN '${types[0]}' WHEN 1 THEN '${types[1]}' ELSE '${types[2]}' END` : `'${types[0]}'`},
         '{"Event":"UserRegistered","Message":{"ID":' || i || ',"Email":"user' || i || '@example.com","First":"Ada","Last":"Lovelace","OrganisationID":42},"Timestamp":"2026-01-01T00:00:00Z"}',
         ${now - span} + i * ${step}, lower(hex(randomblob(32))), ${varied ? "CASE WHEN i % 10 = 0 THEN 'key-' || i END" : "NULL"} FROM s;
  ${delivery(varied ? `CASE WHEN i % 2 = 0 THEN ${uuid} ELSE lower(hex(randomblob(16))) END` : uuid, varied ? `i % ${channels}` : `abs(random()) % ${channels}`, status, varied ? "WHERE i % 7 <> 3" : "")}
  ${
    varied
      ? `${delivery(uuid, `(i + 1) % ${channels}`, status, "WHERE i % 5 = 0", " + 5")}
  INSERT INTO deliveries (id, event_id, channel_id, event_type, status, attempt_count, attempts, created_at, updated_at)
  SELECT ${uuid}, 'gone-' || i, 'ch-' || (i % ${channels}), '${types[0]}', 'failed', 3, '[]', ${now - span} + i * 1000, ${now - span} + i * 1000
  FROM (WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 19) SELECT i FROM g);`
      : ""
  }`;
}

/**
 * Fills the SQLite file of a database at 0009 with the sqlite3 CLI, fast: the secondary
 * indexes of events and deliveries are dropped, the rows written in one transaction without
 * a journal, and the indexes built again from their own SQL (sorted, not row by row).
 */
export function fillFast(file, n, options = {}) {
  const sqlite = (sql) => execFileSync("sqlite3", ["-bail", file], { input: sql, encoding: "utf8", maxBuffer: 1 << 26 });
  const mode = sqlite("PRAGMA journal_mode;").trim();
  const indexes = sqlite("SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND sql IS NOT NULL;").trim();
  const names = sqlite("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND sql IS NOT NULL;").trim().split("\n");
  sqlite(`PRAGMA journal_mode = OFF;
  PRAGMA synchronous = OFF;
  PRAGMA cache_size = -2000000;
  PRAGMA temp_store = FILE;
  BEGIN;
  ${names.map((name) => `DROP INDEX \`${name}\`;`).join("\n")}
  ${fillSql(n, options)}
  ${indexes}
  COMMIT;
  PRAGMA journal_mode = ${mode};`);
}

#!/usr/bin/env node
// How long migration 0010_rows_per_delivery takes, and how much room it needs, on a local
// D1 of a given size: `node test/scripts/measure-migration-0010.mjs 1000000`.
//
// Builds a database at 0009 (d1-at-0009.mjs: wrangler's own `d1 migrations apply
// --local`), fills it with that many events and deliveries (one delivery per event, ids as
// the code before 0010 made them: random UUIDs), then applies 0010 the way `npm run
// deploy` does, through wrangler, and times it. Each statement is also timed on its own
// (sqlite3 on a copy): D1 stops a single query sent through the API after 30 s. Needs the
// sqlite3 CLI.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { localD1 } from "./d1-at-0009.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const N = Number(process.argv[2] ?? 1_000_000);
const CHANNELS = 100;
const dir = mkdtempSync(path.join(process.env.MEASURE_DIR ?? tmpdir(), "migration-0010-"));
const sqlite = (db, sql) => execFileSync("sqlite3", [db], { input: sql, encoding: "utf8", maxBuffer: 1 << 26 });
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const d1 = localD1(dir);
const db = d1.file();

// Random UUIDs, bodies and attempt logs of a realistic size (the portal's events are a few
// hundred bytes; one attempt recorded per delivery).
const uuid =
  "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";
const now = Date.now();
const span = 30 * 24 * 3_600_000;
let started = Date.now();
sqlite(
  db,
  `PRAGMA journal_mode = WAL;
  BEGIN;
  INSERT INTO channels (id, name, url, secret, created_at, updated_at)
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${CHANNELS - 1})
  SELECT 'ch-' || i, 'Channel ' || i, 'https://crm.example.com/' || i, 'enc1:none:none', ${now - span}, ${now - span} FROM c;
  INSERT INTO events (id, type, body, received_at, body_hash)
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${N - 1})
  SELECT ${uuid}, 'UserRegistered',
         '{"Event":"UserRegistered","Message":{"ID":' || i || ',"Email":"user' || i || '@example.com","First":"Ada","Last":"Lovelace","OrganisationID":42},"Timestamp":"2026-01-01T00:00:00Z"}',
         ${now - span} + i * ${Math.max(1, Math.floor(span / N))}, lower(hex(randomblob(32))) FROM s;
  INSERT INTO deliveries (id, event_id, channel_id, event_type, status, attempt_count, last_status_code, attempts, created_at, updated_at)
  SELECT ${uuid}, id, 'ch-' || (abs(random()) % ${CHANNELS}), type, 'succeeded', 1, 200,
         json_array(json_object('attempt', 1, 'startedAt', received_at, 'durationMs', 20 + abs(random()) % 30, 'statusCode', 200, 'error', null, 'responseBody', 'ok')),
         received_at, received_at FROM events;
  COMMIT;
  PRAGMA wal_checkpoint(TRUNCATE);`,
);
const fillMs = Date.now() - started;
const size = (file) => statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
const before = size(db);
const copy = path.join(dir, "copy.sqlite");
copyFileSync(db, copy);

// 1. As the deploy does it: wrangler applies the file (locally, in workerd's SQLite).
d1.addMigrations("0010", "0011");
started = Date.now();
d1.apply();
const applyMs = Date.now() - started;
const after = size(db);

// 2. Each statement on its own, on the copy.
const statements = readFileSync(path.join(root, "migrations", "0010_rows_per_delivery.sql"), "utf8")
  .split("--> statement-breakpoint")
  .map((s) => s.trim())
  .filter(Boolean);
const timings = [];
for (const statement of statements) {
  const t = Date.now();
  sqlite(copy, statement);
  const code = statement.replace(/^(--.*\n)+/, "");
  timings.push({ statement: code.split("\n")[0].slice(0, 60), ms: Date.now() - t });
}
const peak = size(copy);
const pages = sqlite(copy, "PRAGMA freelist_count; PRAGMA page_count; PRAGMA page_size;").trim().split("\n").map(Number);

const result = {
  deliveries: N,
  events: N,
  fill: seconds(fillMs),
  sizeBefore: mb(before),
  migrationThroughWrangler: seconds(applyMs),
  fileAfter: mb(after),
  fileAfterStatements: mb(peak),
  freeAfter: mb(pages[0] * pages[2]),
  statements: timings.map((t) => `${seconds(t.ms).padStart(8)}  ${t.statement}`),
};
console.log(JSON.stringify(result, null, 2));
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });

#!/usr/bin/env node
// How long the batched upgrade of migration 0010 (scripts/upgrade-0010.mjs) takes per chunk,
// and how much room it needs, on a local D1 of a given size:
//
//   node test/scripts/measure-upgrade-0010.mjs 1000000 [--chunk 25000] [--via wrangler|sqlite3] [--single]
//
// Builds a database at 0009 (wrangler's own `d1 migrations apply --local`), fills it with the
// sqlite3 CLI (d1-at-0009.mjs: one delivery per event, as measure-migration-0010.mjs), then
// runs the upgrade as `npm run deploy -- --upgrade-in-batches` does, through `wrangler d1
// execute --local` (each chunk also pays wrangler's start, so the SQL's own time is given
// apart), or with the sqlite3 CLI on the file (no wrangler: for sizes where a few hundred
// wrangler starts would take too long). --single: first, on a copy of the same database,
// the single migration as `npm run deploy` applies it (`wrangler d1 migrations apply
// --local`), for comparison. MEASURE_DIR: where (the system's temp folder); KEEP=1 keeps it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_CHUNK, upgradeInBatches } from "../../scripts/lib/upgrade-0010.mjs";
import { sqliteRunner, wranglerRunner } from "../../scripts/upgrade-0010.mjs";
import { fillFast, localD1, project } from "./d1-at-0009.mjs";

const { values: args, positionals } = parseArgs({
  options: { chunk: { type: "string" }, via: { type: "string" }, single: { type: "boolean" }, reuse: { type: "string" } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 1_000_000);
const chunk = Number(args.chunk ?? DEFAULT_CHUNK);
const via = args.via ?? "wrangler";
// --reuse DIR: a database this script filled before (with KEEP=1), as it was filled.
const dir = args.reuse ?? mkdtempSync(path.join(process.env.MEASURE_DIR ?? tmpdir(), "upgrade-0010-"));
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const db = args.reuse ? project(dir) : localD1(dir);
const file = db.file();
let started = Date.now();
if (!args.reuse) fillFast(file, N);
const fillMs = Date.now() - started;
const sizeOf = (f) => statSync(f).size + (statSync(`${f}-wal`, { throwIfNoEntry: false })?.size ?? 0);
const size = () => sizeOf(file);
const before = size();
let peak = before;
let peakFile = statSync(file).size;

let single;
if (args.single) {
  const copy = db.copyTo(`${dir}-single`);
  copy.addMigrations("0010", "0011");
  started = Date.now();
  copy.apply();
  single = { migrationThroughWrangler: seconds(Date.now() - started), fileAfter: mb(sizeOf(copy.file())) };
  rmSync(copy.dir, { recursive: true, force: true });
}

const exec = via === "sqlite3" ? sqliteRunner(file) : wranglerRunner({ config: db.config, persistTo: db.state });
started = Date.now();
const result = await upgradeInBatches({
  exec,
  chunk,
  log: (line) => {
    peak = Math.max(peak, size());
    peakFile = Math.max(peakFile, statSync(file).size);
    if (process.env.VERBOSE) console.error(line);
  },
});
const totalMs = Date.now() - started;

// What the last step's index builds take on their own (each dropped and built again), and
// the room the tables take (pages in use; the file keeps the pages freed since).
const sqlite = (sql) => execFileSync("sqlite3", ["-bail", file], { input: sql, encoding: "utf8" }).trim();
const after = { file: mb(statSync(file).size), wal: mb(sizeOf(file) - statSync(file).size) };
const indexes = sqlite("SELECT name || char(9) || sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND sql IS NOT NULL")
  .split("\n")
  .map((line) => line.split("\t"));
const indexBuilds = {};
for (const [name, sql] of indexes) {
  const t = Date.now();
  sqlite(`DROP INDEX \`${name}\`; ${sql};`);
  indexBuilds[name] = seconds(Date.now() - t);
}
const [pages, free, pageSize] = sqlite("PRAGMA page_count; PRAGMA freelist_count; PRAGMA page_size;").split("\n").map(Number);

const stats = (table, key) => {
  const ms = result.chunks.filter((c) => c.table === table).map((c) => c[key] ?? Number.NaN);
  return ms.length ? `${ms.length} chunks, mean ${seconds(ms.reduce((a, b) => a + b, 0) / ms.length)}, max ${seconds(Math.max(...ms))}` : "none";
};
console.log(
  JSON.stringify(
    {
      deliveries: N,
      events: N,
      chunk,
      via,
      fill: seconds(fillMs),
      sizeBefore: mb(before),
      ...(single ? { single } : {}),
      deliveriesChunks: stats("deliveries", "ms"),
      deliveriesChunksSql: stats("deliveries", "sqlMs"),
      eventsChunks: stats("events", "ms"),
      eventsChunksSql: stats("events", "sqlMs"),
      lastRequests: result.last.map((r) => `${r.what}: ${seconds(r.ms)}${r.sqlMs === undefined ? "" : ` (SQL ${seconds(r.sqlMs)})`}`),
      indexBuilds,
      total: seconds(totalMs),
      peakFileAndWal: mb(peak),
      peakFile: mb(peakFile),
      after,
      inUseAfter: mb((pages - free) * pageSize),
    },
    null,
    2,
  ),
);
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });

#!/usr/bin/env node
// Migration 0010_rows_per_delivery in batches (scripts/lib/upgrade-0010.mjs), for a database
// too large for the migration's single query. `npm run deploy -- --upgrade-in-batches` runs
// it for a deployment; this runs it on its own:
//
//   node scripts/upgrade-0010.mjs --config wrangler.toml --remote           a D1 database of a config
//   node scripts/upgrade-0010.mjs --config <config> --local [--persist-to DIR]
//   node scripts/upgrade-0010.mjs --sqlite FILE                              a SQLite file, with the
//                                                                            sqlite3 CLI (measuring)
//   --database DB   the binding or name in the config (DB)
//   --chunk N       rows per chunk (25,000)
//
// Stop it at any time (Ctrl-C, a lost connection) and run it again: it goes on where it was.
// Then `wrangler d1 migrations apply` applies 0011 onwards.
import path from "node:path";
import { parseArgs } from "node:util";
import { runToEnd } from "./lib/run.mjs";
import { DEFAULT_CHUNK, upgradeInBatches } from "./lib/upgrade-0010.mjs";

const root = path.resolve(import.meta.dirname, "..");

/**
 * Runs the statements in one request to D1's query API (what `wrangler d1 execute --remote
 * --command` sends), without starting wrangler for each chunk. `npm run deploy` uses this.
 */
export function apiRunner({ token, accountId, databaseId }) {
  const base = (process.env.CLOUDFLARE_API_BASE_URL ?? "https://api.cloudflare.com/client/v4").replace(/\/$/, "");
  return async (statements) => {
    const response = await fetch(`${base}/accounts/${accountId}/d1/database/${databaseId}/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ sql: statements.join(";\n") }),
      signal: AbortSignal.timeout(120_000),
    });
    const body = await response.json().catch(() => ({ success: false, errors: [] }));
    if (!body.success) {
      throw new Error(`D1 answered HTTP ${response.status}: ${(body.errors ?? []).map((e) => `${e.message} [code: ${e.code}]`).join("; ") || "no details"}`);
    }
    // One result per statement, as D1 answers a query of several.
    if (!Array.isArray(body.result) || body.result.length !== statements.length) {
      throw new Error(`D1 answered ${Array.isArray(body.result) ? body.result.length : "no"} results for ${statements.length} statements`);
    }
    const results = body.result.map((r) => r.results ?? []);
    return Object.assign(results, { sqlMs: body.result.reduce((sum, r) => sum + (r.meta?.duration ?? 0), 0) });
  };
}

/** Runs the statements in one `wrangler d1 execute` (one request to D1; one transaction locally). */
export function wranglerRunner({
  wrangler = path.join(root, "node_modules", ".bin", "wrangler"),
  config,
  database = "DB",
  remote,
  persistTo,
  env = process.env,
}) {
  return async (statements) => {
    const args = ["d1", "execute", database, "--config", config, remote ? "--remote" : "--local", "--json", "--command", statements.join(";\n")];
    if (persistTo) args.push("--persist-to", persistTo);
    const { status, out, err } = await runToEnd(wrangler, args, { env: { WRANGLER_SEND_METRICS: "false", ...env, CI: "true" } });
    const said = `${out}\n${err}`.trim();
    if (status !== 0) throw new Error(`wrangler d1 execute failed:\n${said.split("\n").slice(-15).join("\n")}`);
    let parsed;
    try {
      parsed = JSON.parse(out.slice(out.search(/[[{]/)));
    } catch {
      throw new Error(`wrangler d1 execute printed no JSON:\n${said}`);
    }
    const results = (Array.isArray(parsed) ? parsed : [parsed]).map((r) => r.results ?? []);
    const durations = (Array.isArray(parsed) ? parsed : [parsed]).map((r) => r.meta?.duration);
    if (durations.every((d) => typeof d === "number")) Object.assign(results, { sqlMs: durations.reduce((a, b) => a + b, 0) });
    return results;
  };
}

/** Runs the statements in one transaction of the sqlite3 CLI on a file (for measuring). */
export function sqliteRunner(file) {
  const MARK = "~~~ statement end ~~~";
  return async (statements) => {
    const started = performance.now();
    const input = `.mode json\nBEGIN;\n${statements.map((s) => `${s};\n.print '${MARK}'`).join("\n")}\nCOMMIT;\n`;
    const { status, out, err } = await runToEnd("sqlite3", ["-bail", file], { env: process.env, input });
    const sqlMs = performance.now() - started;
    if (status !== 0) throw new Error(`sqlite3 failed: ${err.trim()}`);
    const parts = out.split(`${MARK}\n`).slice(0, statements.length);
    return Object.assign(
      parts.map((p) => (p.trim() ? JSON.parse(p) : [])),
      { sqlMs },
    );
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({
    options: {
      config: { type: "string" },
      database: { type: "string" },
      remote: { type: "boolean" },
      local: { type: "boolean" },
      "persist-to": { type: "string" },
      sqlite: { type: "string" },
      chunk: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const usage = "Usage: node scripts/upgrade-0010.mjs (--config FILE (--remote | --local [--persist-to DIR]) [--database DB] | --sqlite FILE) [--chunk N]";
  if (args.help) {
    console.log(usage);
    process.exit(0);
  }
  const chunk = Number(args.chunk ?? DEFAULT_CHUNK);
  if (!(Number.isInteger(chunk) && chunk >= 1) || (!args.sqlite && (!args.config || args.remote === args.local))) {
    console.error(usage);
    process.exit(2);
  }
  const exec = args.sqlite
    ? sqliteRunner(args.sqlite)
    : wranglerRunner({ config: args.config, database: args.database, remote: args.remote, persistTo: args["persist-to"] });
  try {
    const result = await upgradeInBatches({ exec, chunk });
    if (process.env.UPGRADE_REPORT) console.log(JSON.stringify(result));
  } catch (error) {
    console.error(`✗ ${error instanceof Error ? error.message : error}\n  Nothing is lost: run the same command again to go on.`);
    process.exit(1);
  }
}

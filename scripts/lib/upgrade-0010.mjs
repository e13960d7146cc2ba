// Migration 0010_rows_per_delivery in batches, for a database too large to rebuild in one
// query (docs/deploy.md, "Upgrading a large database"). The result is the migration's: the
// same tables, indexes and rows, every event and delivery under the same new UUIDv7 id,
// and 0010 recorded in d1_migrations, so `wrangler d1 migrations apply` goes on with 0011.
//
// How: the migration's own new tables are created empty, then the rows are moved over in
// key-ordered chunks (oldest first: rowid order), each chunk one request of a few
// statements that copies the chunk and deletes it from the old table. So the data is never
// held twice (the pages the deletes free are reused by the copies), and each query handles
// at most `chunk` rows. Deliveries go first, while every old event is there to give them
// their event's new id; then the events, each moved event leaving its old id and time in
// a small table, for a delivery that the old code adds to an old event meanwhile. A last
// request copies what the old code wrote since, swaps the tables and records 0010.
//
// The old code keeps running throughout: intake stores new events and deliveries in the
// old tables, and the chunks and the last request carry them over. What it cannot do is
// see the rows already moved (docs/deploy.md says what that means).
//
// Safe to stop at any point and run again: every step reads where the database is and goes
// on from there. A chunk copies with INSERT OR REPLACE (ids are computed, so a chunk copied
// again gives the same rows, with the old row's latest values) and deletes only the rows up
// to the bound it recorded first, so rows added meanwhile are never deleted uncopied.
import { readFileSync } from "node:fs";
import path from "node:path";

export const MIGRATION = "0010_rows_per_delivery.sql";
const PREVIOUS = "0009_routing.sql";
const root = path.resolve(import.meta.dirname, "../..");

// The migration's statements: its CREATE TABLE and CREATE INDEX text is used as it is, so
// the schema is the one the migration makes.
const statements = readFileSync(path.join(root, "migrations", MIGRATION), "utf8")
  .split("--> statement-breakpoint")
  .map((s) => s.replace(/^(\s*--.*\n)+/, "").trim())
  .filter(Boolean);
const find = (start) => {
  const found = statements.filter((s) => s.startsWith(start));
  if (found.length !== 1) throw new Error(`${MIGRATION} has no single statement starting "${start}"`);
  return found[0];
};
const CREATE_EVENTS = find("CREATE TABLE `__new_events`").replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS");
const CREATE_DELIVERIES = find("CREATE TABLE `__new_deliveries`").replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS");
const INDEXES = {
  deliveries: [find("CREATE INDEX `deliveries_live`")],
  events: [find("CREATE INDEX `events_body_hash`"), find("CREATE INDEX `events_idempotency_key`")],
};

// The migration's id expressions: a UUIDv7 of time `t`, its random part the last 19 hex
// digits of the old id's bytes.
const tail = (id) => `substr('0000000000000000000' || lower(hex(${id})), -19)`;
const uuid7 = (t, r) =>
  `printf('%08x-%04x-7', ${t} >> 16, ${t} & 65535) || substr(${r}, 1, 3) || '-' || substr('89ab', unicode(substr(${r}, 4, 1)) % 4 + 1, 1) || substr(${r}, 5, 3) || '-' || substr(${r}, 8, 12)`;

// Where a moved event's old id and time stay, for the deliveries that name it; and each
// chunk's bound (the last rowid it moves), recorded before it copies.
const MOVED = "__0010_moved_events";
const STATE = "__0010_state";
export const SETUP = [
  CREATE_EVENTS,
  CREATE_DELIVERIES,
  `CREATE TABLE IF NOT EXISTS \`${MOVED}\` (\`old_id\` text PRIMARY KEY NOT NULL, \`received_at\` integer NOT NULL) WITHOUT ROWID`,
  // Last: its presence says the upgrade has begun.
  `CREATE TABLE IF NOT EXISTS \`${STATE}\` (\`k\` text PRIMARY KEY NOT NULL, \`v\` integer) WITHOUT ROWID`,
];

const bound = (table) => `(SELECT \`v\` FROM \`${STATE}\` WHERE \`k\` = '${table}')`;

/** Copies the old deliveries `where` selects (an event's time from the old events, or from a moved event's note). */
const copyDeliveries = (
  where,
) => `INSERT OR REPLACE INTO \`__new_deliveries\` (\`id\`, \`event_id\`, \`channel_id\`, \`event_type\`, \`status\`, \`attempt_count\`, \`retry_base\`, \`generation\`,
    \`next_attempt_at\`, \`last_status_code\`, \`last_error\`, \`attempts\`, \`created_at\`, \`updated_at\`)
SELECT ${uuid7("t", "r")},
       CASE WHEN received_at IS NULL THEN \`event_id\` ELSE ${uuid7("received_at", "er")} END,
       \`channel_id\`, \`event_type\`, \`status\`, \`attempt_count\`, \`retry_base\`, \`generation\`,
       \`next_attempt_at\`, \`last_status_code\`, \`last_error\`, \`attempts\`, \`created_at\`, \`updated_at\`
FROM (
  SELECT d.*, coalesce(e.\`received_at\`, m.\`received_at\`) AS received_at, coalesce(e.\`received_at\`, m.\`received_at\`, d.\`created_at\`) AS t,
         ${tail("d.`id`")} AS r, ${tail("d.`event_id`")} AS er
  FROM \`deliveries\` AS d LEFT JOIN \`events\` AS e ON e.\`id\` = d.\`event_id\` LEFT JOIN \`${MOVED}\` AS m ON m.\`old_id\` = d.\`event_id\`
  ${where})`;

/** Copies the old events `where` selects, and notes their old ids. */
const copyEvents = (where) => [
  `INSERT OR REPLACE INTO \`__new_events\` (\`id\`, \`type\`, \`body\`, \`received_at\`, \`body_hash\`, \`idempotency_key\`)
SELECT ${uuid7("`received_at`", "r")},
       \`type\`, \`body\`, \`received_at\`, \`body_hash\`, \`idempotency_key\`
FROM (SELECT *, ${tail("`id`")} AS r FROM \`events\` ${where})`,
  `INSERT OR REPLACE INTO \`${MOVED}\` (\`old_id\`, \`received_at\`) SELECT \`id\`, \`received_at\` FROM \`events\` ${where}`,
];

/** One chunk of `table`: its bound, the copy, the delete, and the bound read back (NULL: nothing was left). */
export function chunkStatements(table, size) {
  const where = `WHERE ${table === "deliveries" ? "d." : ""}rowid <= ${bound(table)}`;
  return [
    `INSERT OR REPLACE INTO \`${STATE}\` (\`k\`, \`v\`) SELECT '${table}', max(rowid) FROM (SELECT rowid FROM \`${table}\` ORDER BY rowid LIMIT ${size})`,
    ...(table === "deliveries" ? [copyDeliveries(where)] : copyEvents(`WHERE rowid <= ${bound(table)}`)),
    `DELETE FROM \`${table}\` WHERE rowid <= ${bound(table)}`,
    `SELECT ${bound(table)} AS bound`,
  ];
}

/**
 * The last requests, from where the database is. First, in one request, what is left of the
 * old tables is copied and the new ones take their places: deliveries before events (their
 * copy reads the old events), and both at once, so that the old code never writes a
 * delivery in the new table for an event still in the old one. Then each index is built in
 * a request of its own (a scan of its whole table, the largest single statement of the
 * upgrade), and last 0010 is recorded and the upgrade's own tables dropped.
 * @param {Set<string>} have
 */
function finalRequests(have) {
  const swap = [];
  for (const [table, copy] of /** @type {const} */ ([
    ["deliveries", () => [copyDeliveries("")]],
    ["events", () => copyEvents("")],
  ])) {
    if (!have.has(`__new_${table}`)) continue;
    if (have.has(table)) swap.push(...copy(), `DROP TABLE \`${table}\``);
    swap.push(`ALTER TABLE \`__new_${table}\` RENAME TO \`${table}\``);
  }
  const requests = swap.length ? [{ what: "swapped in the new tables", statements: swap }] : [];
  for (const table of /** @type {const} */ (["deliveries", "events"])) {
    for (const index of INDEXES[table]) {
      const name = index.match(/^CREATE INDEX `(\w+)`/)?.[1];
      if (have.has(`__new_${table}`) || !have.has(`index:${name}`)) requests.push({ what: `built ${name}`, statements: [index] });
    }
  }
  requests.push({
    what: `recorded ${MIGRATION}`,
    statements: [
      `INSERT OR IGNORE INTO d1_migrations (name) VALUES ('${MIGRATION}')`,
      `DROP TABLE IF EXISTS \`${MOVED}\``,
      `DROP TABLE IF EXISTS \`${STATE}\``,
    ],
  });
  return requests;
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

async function look(exec) {
  const [objects, migrations] = await exec([
    "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index')",
    // At 0009, wrangler's table exists.
    "SELECT name FROM d1_migrations ORDER BY id",
  ]);
  const have = new Set(objects.map((o) => (o.type === "index" ? `index:${o.name}` : o.name)));
  return { have, applied: migrations.map((m) => m.name) };
}

export const DEFAULT_CHUNK = 25_000;

/**
 * Runs (or resumes) the upgrade. `exec(statements)` runs the statements in one request and
 * returns each one's rows. A request that fails (a 504, a lost connection) is not fatal: the
 * upgrade looks again where the database is and goes on, `tries` times in all. Returns what
 * it did, with the time of each chunk.
 * @param {{ exec: (sql: string[]) => Promise<Record<string, any>[][]>, chunk?: number, log?: (line: string) => void, tries?: number, pauseMs?: number }} options
 */
export async function upgradeInBatches({ exec, chunk = DEFAULT_CHUNK, log = console.log, tries = 3, pauseMs = 5_000 }) {
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`The chunk size must be a whole number of rows, not ${chunk}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await upgrade(exec, chunk, log);
    } catch (error) {
      if (attempt >= tries || error instanceof Refused) throw error;
      log(`A request failed (${error instanceof Error ? error.message.split("\n")[0] : error}); going on from where the database is…`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

class Refused extends Error {}

/** @param {(sql: string[]) => Promise<Record<string, any>[][]>} exec @param {number} chunk @param {(line: string) => void} log */
async function upgrade(exec, chunk, log) {
  let { have, applied } = await look(exec);
  const began = have.has(STATE);
  if (applied.includes(MIGRATION)) {
    if (began) await exec([`DROP TABLE IF EXISTS \`${MOVED}\``, `DROP TABLE IF EXISTS \`${STATE}\``]);
    log(`${MIGRATION} is already applied: nothing to do.`);
    return { done: false, chunks: [] };
  }
  if (applied.at(-1) !== PREVIOUS) {
    throw new Refused(
      `The database is at ${applied.at(-1) ?? "no migration"}: the batched upgrade starts from ${PREVIOUS}. Apply the migrations before it first.`,
    );
  }
  if (!began) {
    await exec(SETUP);
    ({ have } = await look(exec));
    log("Created the new tables.");
  } else {
    log("Resuming the upgrade that was begun.");
  }

  const chunks = [];
  for (const table of ["deliveries", "events"]) {
    if (!have.has(`__new_${table}`) || !have.has(table)) continue;
    const [[{ n }]] = await exec([`SELECT count(*) AS n FROM \`${table}\``]);
    log(`Moving ${n.toLocaleString("en")} ${table}, ${chunk.toLocaleString("en")} at a time…`);
    let moved = 0;
    for (;;) {
      const started = performance.now();
      const results = await exec(chunkStatements(table, chunk));
      const ms = performance.now() - started;
      if (results.at(-1)[0].bound === null) break;
      moved += chunk;
      // The SQL's own time, when the runner knows it (wrangler --local, sqlite3), beside the request's.
      const sqlMs = /** @type {any} */ (results).sqlMs;
      chunks.push({ table, ms, sqlMs });
      log(
        `  ${table}: ${Math.min(moved, n).toLocaleString("en")} of ${n.toLocaleString("en")} (${seconds(ms)}${sqlMs === undefined ? "" : `, SQL ${seconds(sqlMs)}`})`,
      );
    }
  }

  ({ have } = await look(exec));
  const last = [];
  for (const { what, statements } of finalRequests(have)) {
    const started = performance.now();
    const results = await exec(statements);
    const ms = performance.now() - started;
    const sqlMs = /** @type {any} */ (results).sqlMs;
    last.push({ what, ms, sqlMs });
    log(`${what[0].toUpperCase()}${what.slice(1)} (${seconds(ms)}${sqlMs === undefined ? "" : `, SQL ${seconds(sqlMs)}`}).`);
  }
  return { done: true, chunks, last };
}

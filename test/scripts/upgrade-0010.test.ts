/**
 * The batched upgrade of migration 0010 (scripts/upgrade-0010.mjs) on a local D1 at 0009
 * with a few thousand rows, through the real wrangler: interrupted midway (killed) and run
 * again, with the old code's writes in between, it ends where the single migration ends on
 * the same data, and the migrations after it apply.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { chunkStatements, SETUP } from "../../scripts/lib/upgrade-0010.mjs";
import { fillSql, localD1 } from "./d1-at-0009.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const temp = mkdtempSync(path.join(tmpdir(), "upgrade-0010-test-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = 1_780_000_000_000;

/** Runs the upgrade script on `db`; kills it (and its wrangler) once its output matches `killAt`. */
function upgrade(db: ReturnType<typeof localD1>, killAt?: RegExp) {
  return new Promise<{ status: number | null; killed: boolean; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "scripts/upgrade-0010.mjs"), "--config", db.config, "--local", "--persist-to", db.state, "--chunk", "500"],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    let killed = false;
    const take = (chunk: Buffer) => {
      output += chunk;
      if (killAt && !killed && killAt.test(output)) {
        killed = true;
        process.kill(-child.pid!, "SIGKILL");
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (status) => resolve({ status, killed, output }));
  });
}

const dump = (db: ReturnType<typeof localD1>) => {
  const [schema, events, deliveries, migrations] = db.execute(
    `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name;
     SELECT * FROM events ORDER BY type, id;
     SELECT * FROM deliveries ORDER BY channel_id, id;
     SELECT name FROM d1_migrations ORDER BY id`,
  );
  return { schema: schema!, events: events!, deliveries: deliveries!, migrations: migrations!.map((m) => m.name) };
};

it("upgrades in chunks, resumes after being killed, and ends as the single migration does", { timeout: 900_000 }, async () => {
  // A database at 0009 with 3,000 events and their deliveries (none, one or two; every
  // status; deliveries whose event is gone), and a copy for the single migration.
  const main = localD1(path.join(temp, "batched"));
  main.execute(fillSql(3000, { channels: 5, varied: true, now: NOW }));
  const single = main.copyTo(path.join(temp, "single"));
  const [[{ n: deliveries }]] = main.execute("SELECT count(*) AS n FROM deliveries") as [[{ n: number }]];
  expect(deliveries).toBeGreaterThan(3000);

  // Both get what the old code writes while the upgrade runs.
  const both = (sql: string) => {
    main.execute(sql);
    single.execute(sql);
  };

  // An interruption that the remote D1 could leave (its statements are not promised to be one
  // transaction): a chunk copied but not yet deleted, then its row changed by the old code.
  main.execute(SETUP.join(";\n"));
  main.execute(chunkStatements("deliveries", 500).slice(0, 2).join(";\n"));
  both("UPDATE deliveries SET status = 'succeeded', attempt_count = 2, updated_at = updated_at + 1 WHERE rowid = 7");

  // Killed midway through the events.
  const first = await upgrade(main, /events: 1,000 of/);
  expect(first.killed, first.output).toBe(true);
  expect(first.output).toContain("Resuming the upgrade");
  const [[{ left }], [{ moved }]] = main.execute("SELECT count(*) AS left FROM events; SELECT count(*) AS moved FROM __0010_moved_events") as [
    [{ left: number }],
    [{ moved: number }],
  ];
  expect(moved).toBeGreaterThanOrEqual(1000);
  expect(left + moved).toBe(3000);

  // Meanwhile the old code stores a new event with two deliveries, and a delivery for an
  // event that was already moved (the oldest).
  const [[oldest]] = single.execute("SELECT id, type FROM events ORDER BY rowid LIMIT 1") as [[{ id: string; type: string }]];
  both(`INSERT INTO events (id, type, body, received_at, body_hash) VALUES ('aaaaaaaa-bbbb-4ccc-addd-eeeeeeeeeeee', 'UserRegistered', '{}', ${NOW}, 'ff');
    INSERT INTO deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at) VALUES
      ('0123456789abcdef0123456789abcdef', 'aaaaaaaa-bbbb-4ccc-addd-eeeeeeeeeeee', 'ch-1', 'UserRegistered', 'pending', ${NOW}, ${NOW}, ${NOW}),
      ('fedcba98-7654-4321-8fed-cba987654321', 'aaaaaaaa-bbbb-4ccc-addd-eeeeeeeeeeee', 'ch-2', 'UserRegistered', 'held', ${NOW}, ${NOW}, ${NOW}),
      ('11111111-2222-4333-8444-555555555555', '${oldest.id}', 'ch-3', '${oldest.type}', 'pending', ${NOW}, ${NOW}, ${NOW})`);

  // Run again: it goes on, and a third run has nothing to do.
  const second = await upgrade(main);
  expect(second.status, second.output).toBe(0);
  expect(second.output).toContain("Resuming the upgrade");
  expect(second.output).toContain("Swapped in the new tables");
  expect(second.output).toContain("Built events_body_hash");
  expect(second.output).toContain("Recorded 0010_rows_per_delivery.sql");
  const third = await upgrade(main);
  expect(third.status, third.output).toBe(0);
  expect(third.output).toContain("already applied: nothing to do");

  // The rest of the migrations apply after it; the single migration on the copy, with them.
  main.addMigrations("0011");
  main.apply();
  single.addMigrations("0010");
  single.apply();

  const batched = dump(main);
  const expected = dump(single);
  expect(batched.migrations).toEqual(expected.migrations);
  expect(batched.migrations).toContain("0010_rows_per_delivery.sql");
  expect(batched.migrations.at(-1)).toBe(expected.migrations.at(-1));
  expect(batched.schema).toEqual(expected.schema);
  expect(batched.schema.map((o) => o.name)).not.toContain("__0010_state");
  expect(batched.events).toHaveLength(3001);
  expect(batched.deliveries).toHaveLength(deliveries + 3);
  expect(batched.events.every((e) => UUID7.test(e.id))).toBe(true);
  expect(batched.deliveries.every((d) => UUID7.test(d.id))).toBe(true);
  // Every delivery names its event's new id, but for those whose event was gone already.
  const eventIds = new Set(batched.events.map((e) => e.id));
  expect(batched.deliveries.filter((d) => !eventIds.has(d.event_id)).every((d) => d.event_id.startsWith("gone-"))).toBe(true);
  // The row changed after its chunk was copied is there as changed.
  expect(batched.deliveries.filter((d) => d.attempt_count === 2)).toHaveLength(1);
  // Row for row, the single migration's result.
  expect(batched.events).toEqual(expected.events);
  expect(batched.deliveries).toEqual(expected.deliveries);
});

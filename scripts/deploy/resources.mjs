// Steps 3 and 4: this deployment's queues and D1 database, found by name or created. One
// of that name that belongs to something else is refused, never taken over.
import { migrationFiles } from "./migrations.mjs";
import { allQueues } from "./options.mjs";
import { apiStep, fail, step, warn } from "./steps.mjs";
import { jsonIn, run } from "./wrangler.mjs";

const OTHER_NAME = "It belongs to something else: choose another name for this deployment with `npm run deploy -- --name <name>`.";

/** Creates the missing queues (Workers cannot deploy a consumer of a queue that does not exist); `queueInfos` in allQueues' order. */
export async function ensureQueues({ names }, queueInfos) {
  for (const [i, queue] of allQueues(names).entries()) {
    const info = queueInfos[i];
    await step(`Queue ${queue}`, async () => {
      if (info.ok) {
        const users = [...info.out.matchAll(/^(?:Producers|Consumers):\s*(.*)$/gm)].flatMap((m) => m[1].split(",").map((u) => u.trim()));
        const others = users.filter((u) => u && u !== `worker:${names.worker}`);
        if (others.length) fail(`Checking the queue ${queue}`, `The queue ${queue} exists and is used by ${others.join(", ")}.`, OTHER_NAME);
        if (users.length) return "exists, kept";
        warn([`The queue ${queue} already exists and no worker uses it: this deploy did not create it.`, ...usedAnyway("queue")]);
        return "exists, not created by this deploy, used";
      }
      if (!/does not exist/i.test(info.said)) fail(`Checking the queue ${queue}`, info.said);
      const created = await run("queues", "create", queue);
      if (!created.ok) fail(`Creating the queue ${queue}`, created.said);
      return "created";
    });
  }
}

/**
 * The database, found by name or created: no id to paste by hand.
 * @returns {Promise<{ id: string, applied: string[], upgradeBegun: boolean }>} applied: its
 *   migrations; upgradeBegun: a batched upgrade of 0010 was begun (its own table is there)
 */
export async function ensureDatabase({ names, base }, api, databaseList) {
  const database = { id: undefined, applied: [], upgradeBegun: false };
  await step(`D1 database ${names.database}`, async () => {
    const find = (list) => {
      if (!list.ok) fail("Listing the D1 databases", list.said);
      return jsonIn(list.out).find((db) => db.name === names.database);
    };
    const found = find(databaseList);
    if (!found) {
      const created = await run("d1", "create", names.database);
      if (!created.ok) fail(`Creating the D1 database ${names.database}`, created.said);
      database.id = find(await run("d1", "list", "--json"))?.uuid;
      if (!database.id) fail(`Creating the D1 database ${names.database}`, `${created.said}\n(the new database is not in \`wrangler d1 list\`)`);
      return `created (${database.id})`;
    }
    database.id = found.uuid;
    const ours = new Set(migrationFiles(base));
    let tables;
    await apiStep(`Reading the D1 database ${names.database}`, async () => {
      tables = (await api.query(database.id, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")).map(
        (r) => r.name,
      );
      if (tables.includes("d1_migrations")) database.applied = (await api.query(database.id, "SELECT name FROM d1_migrations ORDER BY id")).map((r) => r.name);
      database.upgradeBegun = tables.includes("__0010_state");
    });
    const foreign = database.applied.filter((m) => !ours.has(m));
    if ((tables.length && !tables.includes("d1_migrations")) || foreign.length) {
      fail(
        `Checking the D1 database ${names.database}`,
        `The database ${names.database} exists and holds ${foreign.length ? `migrations that are not this dispatcher's (${foreign.slice(0, 3).join(", ")})` : `tables this dispatcher did not make (${tables.slice(0, 3).join(", ")})`}.`,
        OTHER_NAME,
      );
    }
    if (database.applied.length) return `exists (${database.id}), kept`;
    warn([`The D1 database ${names.database} already exists, empty: this deploy did not create it.`, ...usedAnyway("database")]);
    return `exists (${database.id}), empty, not created by this deploy, used`;
  });
  return database;
}

/** What follows "this deploy did not create it": the resource is used, but it may be someone else's. */
function usedAnyway(kind) {
  return [
    `It is used as this deployment's ${kind}. If an earlier \`npm run deploy\` made it, all is well;`,
    "if it is someone else's, stop (Ctrl-C) and choose another name with `npm run deploy -- --name <name>`.",
  ];
}

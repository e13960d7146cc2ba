// For a failed run: the ordered channel's D1 rows, read straight from the local database,
// to see which lane waited on what.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { root } from "../lib/dev-server.mjs";

/**
 * Prints the ordered channel's live deliveries and every row of the lanes named in
 * `violations`, times relative to the first post (`started`, unix ms).
 * @param {{ ID: string }} channel @param {string} state the worker's D1 state folder
 */
export function showLaneRows(violations, { channel, state, parked, started }) {
  const lanes = new Set(violations.map((v) => v.match(/^lane (\S+):/)?.[1]));
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  const query = `select id, event_id, lane, status, attempt_count, next_attempt_at, generation, created_at from deliveries where channel_id = '${channel.ID}'
    and (status in ('pending', 'retrying', 'held') or lane in (${[...lanes].map((l) => `'${l}'`).join(", ") || "''"})) order by lane, id`;
  const out = spawnSync(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", query], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  console.log(`  lanes of the ordered channel ${channel.ID} (D1 rows, times relative to the first post):`);
  try {
    for (const row of JSON.parse(out.stdout)[0].results) {
      const since = (ms) => (ms === null ? null : `${((ms - started) / 1000).toFixed(3)} s`);
      // A UUIDv7 starts with its unix ms: when the event was received (src/db/ids.ts).
      const received = Number.parseInt(row.event_id.replace("-", "").slice(0, 12), 16);
      const late = parked.has(row.event_id) ? ", parked" : "";
      console.log(
        `    ${JSON.stringify({ ...row, next_attempt_at: since(row.next_attempt_at), created_at: since(row.created_at) })} received ${since(received)}${late}`,
      );
    }
  } catch {
    console.log(out.stdout, out.stderr);
  }
}

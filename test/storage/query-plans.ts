import { env } from "cloudflare:workers";

/**
 * Explains the plan of each statement run: what reads the deliveries or the events must
 * read a range of a primary key or an index, never the whole table, however many rows it
 * holds. Returns the full reads found.
 *
 * `sweeperLook` allows reading a live partial index whole: they hold only live deliveries
 * (of ordered channels, for deliveries_lane), and reading one whole is the sweeper's bounded
 * look at what waits.
 */
export async function fullScans(statements: { sql: string; args: unknown[] }[], { sweeperLook = false } = {}) {
  const scans = new Set<string>();
  for (const { sql, args } of statements) {
    if (!/\b(deliveries|events)\b/.test(sql)) continue;
    const { results } = await env.DB.prepare(`explain query plan ${sql}`)
      .bind(...args)
      .all<{ detail: string }>();
    for (const { detail } of results) {
      // The tables' own names and the aliases the queries give them.
      if (/^SCAN (deliveries|events|d|e|qe|next|newest)\b/.test(detail) && !(sweeperLook && /INDEX deliveries_(live|lane)\b/.test(detail)))
        scans.add(`${detail} in: ${sql.replace(/\s+/g, " ")}`);
    }
  }
  return [...scans];
}

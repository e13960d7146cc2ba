import { env } from "cloudflare:workers";

/** Every table a request could write to. */
export const TABLES = ["channels", "channel_events", "channel_headers", "events", "deliveries"];

/** The rows of each table, to check a refused request stored nothing. */
export async function rowCounts() {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`select count(*) as n from ${t}`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, (results[i]!.results[0] as { n: number }).n]));
}

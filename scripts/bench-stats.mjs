#!/usr/bin/env node
// `npm run bench:stats`: the admin reads on a big table. Fills a local D1 with 1,000,000
// deliveries over the last 7 days (100 channels, one event each, 95% succeeded, 3% failed,
// 1% cancelled, 1% still retrying) and their hourly counts, then times GET /stats for 24 h
// and 7 days, the admin lists and lookups, each 20 times, and the sweeper (its look for
// lost deliveries and the purge of a day past RETENTION_DAYS=6), against `wrangler dev`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, startDispatcher } from "./lib/dev-server.mjs";

const DELIVERIES = Number(process.env.STATS_DELIVERIES ?? 1_000_000);
const CHANNELS = 100;
const RUNS = 20;
const HOUR = 3_600_000;
const now = Date.now();
const span = 7 * 24 * HOUR;

const state = mkdtempSync(path.join(tmpdir(), "dispatcher-stats-"));
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
const d1 = (...args) => {
  const run = spawnSync(wrangler, ["d1", ...args, "--local", "--persist-to", state], { cwd: root, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`wrangler d1 ${args[0]} failed:\n${run.stdout}\n${run.stderr}`);
};

console.log(`Filling a local D1 with ${DELIVERIES.toLocaleString("en")} deliveries over 7 days…`);
d1("migrations", "apply", "DB");
// A UUIDv7 of the unix ms an SQL expression gives, as src/db/ids.ts makes them.
const uuid7 = (ms) =>
  `printf('%08x-%04x-7%03x-%04x-%012x', (${ms}) >> 16, (${ms}) & 65535, random() & 4095, 32768 | (random() & 16383), random() & 281474976710655)`;
// A UserRegistered body the size of the portal's sample (≈ 330 bytes), its user numbered i:
// the search reads every byte of it.
const userRegistered = (i) =>
  `'{"Event":"UserRegistered","Message":{"ID":' || ${i} || ',"Email":"user' || ${i} || '@example.com","First":"First' || ${i} || '","Last":"Last' || ${i} || '","OrgID":' || (${i} % 50) || ',"Provider":"password","Status":"active","CreatedAt":"2026-01-01T00:00:00.000000+02:00","ByUser":1,"CustomAttributes":[{"Identifier":"company-name","Value":"ACME"}]},"Timestamp":"2026-01-01T00:00:00.000000+02:00"}'`;
const latencyBuckets = 49;
// A histogram for n answered attempts: 60% at ~20 ms, 35% at ~40 ms, 5% at ~256 ms.
const histogram = (n) =>
  `json_array(${Array.from({ length: latencyBuckets }, (_, k) => (k === 10 ? `${n} * 60 / 100` : k === 13 ? `${n} * 35 / 100` : k === 21 ? `${n} * 5 / 100` : "0")).join(", ")})`;
const sql = `
  insert into channels (id, name, url, method, timeout_seconds, enabled, secret, created_at, updated_at)
  with recursive c(i) as (select 0 union all select i + 1 from c where i < ${CHANNELS - 1})
  select 'ch-' || i, 'Channel ' || i, 'https://crm.example.com/' || i, 'POST', 10, 1, 'enc1:none:none', ${now - span - HOUR}, ${now - span - HOUR} from c;
  insert into channel_events (event_type, channel_id) select 'UserRegistered', id from channels;
  insert into events (id, type, body, received_at, body_hash)
  with recursive s(i, t) as (select 0, ${now - span} union all select i + 1, t + ${Math.floor(span / DELIVERIES)} from s where i < ${DELIVERIES - 1})
  select ${uuid7("t")}, 'UserRegistered', ${userRegistered("i")},
         t, lower(hex(randomblob(32))) from s;
  -- Each event's status drawn once (materialized: a flattened random() is drawn anew at each use).
  with drawn as materialized (select id, received_at, abs(random()) % 100 as r from events),
  e as materialized (
    select id, received_at, case when r < 95 then 'succeeded' when r < 98 then 'failed' when r < 99 then 'cancelled' else 'retrying' end as status
    from drawn)
  insert into deliveries (id, event_id, channel_id, event_type, status, attempt_count, next_attempt_at, last_status_code, last_error, attempts, created_at, updated_at)
  select substr(e.id, 1, 13) || substr(${uuid7("0")}, 14), e.id, 'ch-' || (abs(random()) % ${CHANNELS}), 'UserRegistered', e.status,
         case e.status when 'failed' then 8 else 1 end,
         case e.status when 'retrying' then ${now + HOUR} else null end,
         case e.status when 'succeeded' then 200 when 'cancelled' then null else 500 end,
         case e.status when 'succeeded' then null when 'cancelled' then 'webhook deleted' else 'target answered 500' end,
         case e.status when 'cancelled' then '[]' else json_array(json_object('attempt', 1, 'startedAt', e.received_at, 'durationMs', 20 + abs(random()) % 30,
           'statusCode', case e.status when 'succeeded' then 200 else 500 end, 'error', case e.status when 'succeeded' then null else 'target answered 500' end,
           'responseBody', 'ok')) end,
         e.received_at, e.received_at
  from e;
  insert into delivery_counts (channel_id, hour, succeeded, failed, cancelled, latency, last_error, last_failure_at)
  select channel_id, created_at - created_at % ${HOUR}, sum(status = 'succeeded'), sum(status = 'failed'), sum(status = 'cancelled'),
         ${histogram("sum(status <> 'cancelled')")}, max(last_error), max(case when status = 'failed' then created_at end)
  from deliveries where status in ('succeeded', 'failed', 'cancelled') group by 1, 2;
`;
const file = path.join(state, "fill.sql");
writeFileSync(file, sql);
const started = Date.now();
d1("execute", "DB", "--file", file, "--yes");
console.log(`Filled in ${((Date.now() - started) / 1000).toFixed(0)} s.`);

const worker = await startDispatcher({ RETENTION_DAYS: "6" }, { state });
const headers = { Authorization: `Bearer ${worker.vars.ADMIN_TOKEN}` };
const iso = (ms) => new Date(ms).toISOString();

async function time(label, route) {
  const times = [];
  let status = 0;
  for (let i = 0; i < RUNS + 2; i++) {
    const t0 = performance.now();
    const res = await fetch(`${worker.url}/portal-api${route}`, { headers });
    await res.arrayBuffer();
    status = res.status;
    if (i >= 2) times.push(performance.now() - t0); // two warm-ups
  }
  if (status !== 200) throw new Error(`${route} answered ${status}`);
  times.sort((a, b) => a - b);
  const p = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)].toFixed(0);
  console.log(`| ${label} | ${p(0.5)} ms | ${p(0.95)} ms |`);
}

const [{ ID: eventId }] = await (await fetch(`${worker.url}/portal-api/events?per_page=1`, { headers })).json();
const [{ ID: deliveryId }] = await (await fetch(`${worker.url}/portal-api/webhooks/ch-7/deliveries?per_page=1&page=100`, { headers })).json();
console.log(`\n${DELIVERIES.toLocaleString("en")} deliveries, ${CHANNELS} channels, 7 days; ${RUNS} requests each after 2 warm-ups:\n`);
console.log("| request | p50 | p95 |");
console.log("| --- | --- | --- |");
await time("stats, last 24 h (default)", "/stats");
await time("stats, last 7 days", `/stats?since=${iso(now - span)}&until=${iso(now)}`);
await time("stats, 7 days, one channel", `/stats?since=${iso(now - span)}&until=${iso(now)}&webhook_id=ch-7`);
await time("a channel's deliveries, newest first", "/webhooks/ch-7/deliveries?per_page=50");
await time("a channel's failed deliveries", "/webhooks/ch-7/deliveries?status=failed&per_page=50");
await time("every channel's deliveries, newest first", "/deliveries?per_page=50");
await time("every channel's failed deliveries", "/deliveries?status=failed&per_page=50");
await time("events, newest first", "/events?per_page=50");
await time("one event with its deliveries", `/events/${eventId}`);
await time("an event's deliveries, across channels", `/deliveries?event_id=${eventId}`);
await time("one delivery with its attempts", `/deliveries/${deliveryId}`);
await time("a channel's deliveries, page 20", "/webhooks/ch-7/deliveries?per_page=50&page=20");
await time("every channel's deliveries in one hour", `/deliveries?since=${iso(now - 3 * HOUR)}&until=${iso(now - 2 * HOUR)}&per_page=50`);
await time("events of one type, newest first", "/events?type=UserRegistered&per_page=50");
await time("every channel's deliveries of a status none has (all read)", "/deliveries?status=held&per_page=50");

// Search by what the payload says (GET /events?q=, GET /deliveries?q=): a LIKE over each
// type's key range of the window, newest first. Users are numbered by receipt, so a user of
// the last hours is found at once and one that does not exist makes the whole window read.
const perDay = Math.round((DELIVERIES * 24 * HOUR) / span);
const recent = DELIVERIES - Math.round(perDay / 2);
await time(`search, 24 h (${perDay.toLocaleString("en")} events), an email (12 h old)`, `/events?q=USER${recent}@example.com`);
await time("search, 24 h, a name in another case", `/events?q=last${recent}%22`);
await time("search, 24 h, no match (the whole window read)", "/events?q=nobody%40example.com");
await time("search, 7 days (every event), no match", `/events?q=nobody%40example.com&since=${iso(now - span)}&until=${iso(now)}`);
await time("search, 31 days (every event), no match", `/events?q=nobody%40example.com&since=${iso(now - 31 * 24 * HOUR)}&until=${iso(now)}`);
await time("deliveries of matching events, 24 h, no match", "/deliveries?q=nobody%40example.com&per_page=50");

// Replay a window of 100,000 events (about 17 h here) to a new channel, paused so that the
// local queue and consumer stay out of the measure: its dry run, the replay (each request
// answers a Cursor while the window holds more), the same again (creates nothing), and with a
// filter that half the events pass.
const REPLAY_EVENTS = Math.min(100_000, Math.floor(DELIVERIES / 2));
const replayWindow = { Since: iso(now - span + HOUR), Until: iso(now - span + HOUR + Math.ceil((REPLAY_EVENTS * span) / DELIVERIES)) };
const post = async (path, body) => {
  const res = await fetch(`${worker.url}/portal-api${path}`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status >= 300 && res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
};
async function replayAll(channelId, extra) {
  const requests = [];
  let total = 0;
  let cursor;
  do {
    const t0 = performance.now();
    const answer = await post(`/webhooks/${channelId}/replay`, { ...replayWindow, ...extra, ...(cursor ? { Cursor: cursor } : {}) });
    requests.push(performance.now() - t0);
    total += answer.Created ?? answer.WouldCreate;
    cursor = answer.Cursor;
  } while (cursor);
  const sum = requests.reduce((a, b) => a + b, 0);
  return `${total.toLocaleString("en")} in ${requests.length} request${requests.length === 1 ? "" : "s"}, ${(sum / 1000).toFixed(1)} s (longest request ${(Math.max(...requests) / 1000).toFixed(1)} s)`;
}
const newChannel = (fields) =>
  post("/webhooks", { Name: "Replayed", URL: "https://crm.example.com/replayed", Events: ["UserRegistered"], Paused: true, ...fields }).then((c) => c.ID);
const plain = await newChannel({});
const firstId = Number(
  (
    await (
      await fetch(
        `${worker.url}/portal-api/events?since=${encodeURIComponent(replayWindow.Since)}&until=${encodeURIComponent(replayWindow.Until)}&per_page=1`,
        { headers },
      )
    ).json()
  )[0].Payload.Message.ID,
);
const filtered = await newChannel({ Filter: { "Message.ID": { $gt: firstId - REPLAY_EVENTS / 2 } } });
console.log(`| replay ${REPLAY_EVENTS.toLocaleString("en")} events, dry run | ${await replayAll(plain, { DryRun: true })} | |`);
console.log(`| replay ${REPLAY_EVENTS.toLocaleString("en")} events to a new channel | ${await replayAll(plain, {})} | |`);
console.log(`| the same replay again (creates nothing) | ${await replayAll(plain, {})} | |`);
console.log(`| replay, a filter half of them pass, dry run | ${await replayAll(filtered, { DryRun: true })} | |`);
console.log(`| replay, a filter half of them pass | ${await replayAll(filtered, {})} | |`);

// The sweeper, once a minute: its look for lost deliveries (10,000 live ones here, none
// lost) and the purge of what is past RETENTION_DAYS (a day's worth, in slices).
const sweeps = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  const res = await fetch(`${worker.url}/__scheduled?cron=*+*+*+*+*`);
  await res.arrayBuffer();
  sweeps.push(performance.now() - t0);
}
sweeps.sort((a, b) => a - b);
console.log(`| the sweeper, purging a day past the retention (10 runs) | ${sweeps[4].toFixed(0)} ms | ${sweeps[9].toFixed(0)} ms (max) |`);

await worker.stop();
rmSync(state, { recursive: true, force: true });

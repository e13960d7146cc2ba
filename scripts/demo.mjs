#!/usr/bin/env node
// `npm run demo`, with `npm start` running: a local receiver that verifies every signature
// with the standardwebhooks package, a channel for all events pointing at it (created once,
// then reused), the portal's 13 sample payloads posted, and each arrival printed. When it
// ends it disables its channel, so that nothing sent afterwards (the README's curl path,
// the dispatcher's own alerts) goes to a receiver that is gone: on a failure too, once the
// channel is enabled. The receiver listens before the channel is touched, so a busy port
// stops the demo before anything is sent its way.
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { readArgs, refuseArgs } from "./lib/args.mjs";
import { readDevVars } from "./lib/dev-vars.mjs";

const FORMATS = ["raw", "slack", "teams", "discord"];
const USAGE = `Usage: npm run demo [-- --format raw|slack|teams|discord]
  --format F    how its channel sends the events: raw (the portal's JSON, the default),
                or as slack, teams or discord chat messages
  -h, --help    this usage
Environment:
  PORT                       the dispatcher's port, as for npm start (default 8787)
  DISPATCHER_URL             the dispatcher's address, instead of http://127.0.0.1:$PORT
  DEMO_RECEIVER_PORT         the demo's receiver's port (default 8788)
  ADMIN_TOKEN, INTAKE_TOKEN  the dispatcher's tokens (default: this clone's .dev.vars, which npm start writes)`;
// `npm run demo -- --format slack` (or teams, discord): the same events as chat messages.
const FORMAT = readArgs({ format: { type: "string", default: "raw" } }, { usage: USAGE, command: "npm run demo" }).format;
if (!FORMATS.includes(FORMAT)) refuseArgs(`--format takes raw, slack, teams or discord, not "${FORMAT}".`);

const root = path.resolve(import.meta.dirname, "..");
const vars = readDevVars(path.join(root, ".dev.vars"));
const base = process.env.DISPATCHER_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
// Its own port: 8789 is the README's curl receiver's, which may be running beside it.
const receiverPort = Number(process.env.DEMO_RECEIVER_PORT ?? 8788);
if (!(Number.isInteger(receiverPort) && receiverPort >= 1 && receiverPort <= 65535))
  refuseArgs(`DEMO_RECEIVER_PORT must be a port number (1 to 65535), not "${process.env.DEMO_RECEIVER_PORT}".`);
const adminToken = process.env.ADMIN_TOKEN ?? vars.ADMIN_TOKEN;
const intakeToken = process.env.INTAKE_TOKEN ?? vars.INTAKE_TOKEN;
const seed = JSON.parse(readFileSync(path.join(root, "test/fixtures/seed-payloads.json"), "utf8"));
const CHANNEL_NAME = "npm run demo receiver";

async function admin(method, route, body) {
  const res = await fetch(`${base}/portal-api${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status === 401) {
    console.error(
      `The dispatcher at ${base} refused the ADMIN_TOKEN of this clone's .dev.vars: another one (another clone, or one with other tokens) is running on that port. Stop it, or run this clone's on another (\`PORT=9000 npm start\`, then \`PORT=9000 npm run demo\`).`,
    );
    process.exit(1);
  }
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

if (!adminToken || !intakeToken) {
  console.error("No tokens: run `npm start` first (it writes .dev.vars), or set ADMIN_TOKEN and INTAKE_TOKEN.");
  process.exit(1);
}
try {
  await fetch(`${base}/healthz`);
} catch {
  console.error(
    `The dispatcher is not answering at ${base}: start it with \`npm start\` in another terminal` +
      ` (with the same PORT: \`PORT=${process.env.PORT ?? 9000} npm start\` goes with \`PORT=${process.env.PORT ?? 9000} npm run demo\`).`,
  );
  process.exit(1);
}
console.log(`Dispatcher at ${base}${process.env.DISPATCHER_URL ? "" : ` (PORT=${process.env.PORT ?? "8787, the default"})`}`);

// The receiver, listening before the channel points at it. Until the channel's secret is
// known (`verifier`), nothing it receives verifies.
let verifier;
const postedAt = new Map();
const arrived = new Set();
let postingDone = false;
let allArrived;
const done = new Promise((resolve) => (allArrived = resolve));
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let verified = false;
    let type = "?";
    try {
      const payload = verifier.verify(body, req.headers);
      verified = true;
      if (FORMAT !== "raw") {
        // A chat message: what a person would read in the channel.
        const said = payload.text ?? payload.content ?? payload.attachments?.[0]?.content?.body?.[0]?.text;
        console.log(`  arrived  ${FORMAT} message, verified: yes  "${said}"`);
        res.writeHead(200).end();
        arrived.add(`${arrived.size}`);
        if (postingDone && arrived.size === postedAt.size) allArrived();
        return;
      }
      type = payload.Event;
    } catch {
      try {
        type = JSON.parse(body).Event;
      } catch {}
    }
    // A delivery can land before the POST's answer does: match arrivals by their bytes.
    const sent = postedAt.get(body);
    const latency = sent ? `${Date.now() - sent} ms` : "-";
    console.log(`  arrived  ${type.padEnd(28)} verified: ${verified ? "yes" : "NO "}  bytes as sent: ${sent ? "yes" : "NO "}  latency: ${latency}`);
    res.writeHead(verified ? 200 : 401).end();
    if (verified && sent) arrived.add(body);
    if (postingDone && arrived.size === postedAt.size) allArrived();
  });
});
const receiverUrl = `http://127.0.0.1:${receiverPort}/webhooks`;
try {
  await new Promise((resolve, reject) => server.once("error", reject).listen(receiverPort, "127.0.0.1", resolve));
} catch (error) {
  const other = receiverPort === 8790 ? 8791 : 8790;
  const again = `${process.env.PORT ? `PORT=${process.env.PORT} ` : ""}DEMO_RECEIVER_PORT=${other} npm run demo${FORMAT === "raw" ? "" : ` -- --format ${FORMAT}`}`;
  console.error(
    error.code === "EADDRINUSE"
      ? `Port ${receiverPort}, the demo receiver's, is in use (another demo, or something else): stop what holds it, or pick another port: \`${again}\`.`
      : `The demo's receiver cannot listen on 127.0.0.1:${receiverPort} (${error.code ?? error.message}): pick another port: \`${again}\`.`,
  );
  process.exit(1);
}
console.log(`Receiver listening on ${receiverUrl}`);

/** The demo's channel, once it has one (reused or created). */
let channel;
/** Disables the demo's channel: what comes after the demo is not for its receiver. @returns whether it did */
let disabled = false;
async function disableChannel() {
  if (!channel || disabled) return false;
  disabled = true;
  return admin("PATCH", `/webhooks/${channel.ID}`, { Enabled: false }).then(
    () => true,
    (err) => {
      console.error(`Could not disable the demo's channel ${channel.ID}: ${err.message}`);
      return false;
    },
  );
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await disableChannel();
    process.exit(130);
  });
}

/** Points the channel at the receiver, posts the sample events and waits for them: how many arrived, verified. */
async function run() {
  // The channel: reuse the demo's own, or create it.
  const eventTypes = await admin("GET", "/event-types");
  const existing = [];
  for (let page = 1; ; page++) {
    const batch = await admin("GET", `/webhooks?page=${page}&per_page=100`);
    existing.push(...batch);
    if (batch.length < 100) break;
  }
  channel = existing.find((c) => c.Name === CHANNEL_NAME);
  if (channel) {
    channel = await admin("PATCH", `/webhooks/${channel.ID}`, { URL: receiverUrl, Events: eventTypes, Enabled: true, Format: FORMAT, Paused: false });
    console.log(`Reusing channel ${channel.ID}`);
  } else {
    channel = await admin("POST", "/webhooks", {
      Name: CHANNEL_NAME,
      URL: receiverUrl,
      Events: eventTypes,
      Headers: [{ Name: "X-Demo", Value: "yes" }],
      Format: FORMAT,
    });
    console.log(`Created channel ${channel.ID}`);
  }
  const { Secret } = await admin("GET", `/webhooks/${channel.ID}/secret`);
  verifier = new Webhook(Secret);

  console.log(`Posting the portal's ${seed.length} sample events:`);
  for (const { type, body } of seed) {
    postedAt.set(body, Date.now());
    const res = await fetch(`${base}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${intakeToken}`, "Content-Type": "application/json" },
      body,
    });
    const answer = await res.json();
    if (res.status === 202) continue;
    if (answer.Duplicate) {
      // Sent before within 24 hours: the dispatcher dedupes it. Ask for it again instead,
      // saying so first: it can arrive (and be printed) before the request's answer does.
      const event = await admin("GET", `/events/${answer.ID}`);
      const mine = event.Deliveries.find((d) => d.WebhookID === channel.ID);
      if (mine) {
        console.log(`  duplicate ${type}: accepted before; redelivering it`);
        postedAt.set(body, Date.now());
        await admin("POST", `/deliveries/${mine.ID}/redeliver`);
        continue;
      }
      // Accepted before this channel was made (another run's, or the portal's own): replayed to it.
      console.log(`  duplicate ${type}: accepted before this channel was made; replaying it to the channel`);
      postedAt.set(body, Date.now());
      const replayed = await admin("POST", `/webhooks/${channel.ID}/replay`, { Since: event.ReceivedAt, EventID: answer.ID });
      if (replayed.Created === 1) continue;
      console.log(`  ${type}: the replay made no delivery: ${JSON.stringify(replayed)}`);
    } else {
      console.log(`  ${type}: ${res.status} ${JSON.stringify(answer)}`);
    }
    postedAt.delete(body);
  }

  postingDone = true;
  if (arrived.size === postedAt.size) allArrived();
  const timeout = setTimeout(() => allArrived(), 30_000);
  await done;
  clearTimeout(timeout);
  return arrived.size;
}

let verified;
try {
  verified = await run();
} catch (error) {
  console.error(`The demo stopped: ${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ""}`);
  if (await disableChannel()) console.error(`Its channel ${channel.ID} is disabled again.`);
  process.exit(1);
}
server.close();
await disableChannel();
console.log(`\n${verified} of ${seed.length} events arrived and verified.`);
console.log(`Its channel is disabled now (run the demo again to enable it). See its deliveries in the admin UI:`);
console.log(`  ${base}/#/channels/${channel.ID}`);
process.exit(verified === seed.length ? 0 : 1);

#!/usr/bin/env node
// `npm run cpu`: the worker's own CPU time per intake request and per delivery, from a
// V8 CPU profile of the worker's isolate under `wrangler dev` (its inspector). That is
// what the Workers CPU limit counts (10 ms per invocation on the Free plan); local D1 and
// Queues run elsewhere and are not in it.
//
// Each profile sample is given to the consumer when a frame of its stack is one of the
// consumer's functions, else to the intake (the fetch handler, Hono, the runtime's own
// work and garbage collection). Idle time counts for neither.
import http from "node:http";
import WebSocket from "ws";
import { adminClient, startDispatcher } from "./lib/dev-server.mjs";

const EVENTS = Number(process.env.CPU_EVENTS ?? 200);
// The third: a channel with a Transform (the Lago template's JSONata) and a URL placeholder,
// so JSONata evaluation per delivery is in the figure.
const LAGO_BODY = `{"customer": {"external_id": "tyk-user-" & $string(Message.ID), "name": $trim(Message.First & " " & Message.Last),
  "firstname": Message.First, "lastname": Message.Last, "email": Message.Email, "customer_type": "individual",
  "metadata": [{"key": "tyk_org_id", "value": $string(Message.OrgID), "display_in_invoice": false},
               {"key": "tyk_status", "value": Message.Status, "display_in_invoice": false}]}}`;
const SCENARIOS = [
  { channels: 1, type: "ApplicationRegistered" },
  { channels: 10, type: "CredentialRegistered" },
  { channels: 1, type: "UserRegistered", transform: LAGO_BODY, label: "1, Transform + URL field" },
];
const CONSUMER_FUNCTIONS = new Set([
  "consumeDeliveries",
  "handleMessage",
  "triage",
  "judgeAttempt",
  "collectWrites",
  "loadBatch",
  "recordBatch",
  "decryptCredentials",
  "signedRequest",
  "signatureHeader",
  "hmacKey",
  "call",
  "readSnippet",
  "classify",
  "maskSecrets",
  "maskCutTail",
  "spellings",
  "secretValues",
  "mapConcurrently",
  "copiesInBatch",
  "queue",
  "send",
  "buildRequest",
  "callTarget",
  "runTransform",
  "expandUrl",
  // JSONata's interpreter (src/integrations/transform.ts)
  "evaluate",
  "evaluatePath",
  "evaluateStep",
  "evaluateBinary",
  "evaluateFunction",
  "evaluateName",
  "evaluateLiteral",
  "evaluateBlock",
  "evaluateVariable",
  "apply",
  "applyInner",
]);

let delivered = 0;
let serial = 0;
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    delivered++;
    res.writeHead(200).end();
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const sink = `http://127.0.0.1:${receiver.address().port}`;

const worker = await startDispatcher();
const admin = adminClient(worker);
for (const { channels, type, transform } of SCENARIOS) {
  for (let i = 0; i < channels; i++) {
    await admin("POST", "/webhooks", {
      Name: `cpu ${type} ${i}`,
      URL: transform ? `${sink}/customers/{Message.ID}` : `${sink}/${i}`,
      Events: [type],
      Headers: [{ Name: "X-Api-Key", Value: `key-${i}` }],
      ...(transform ? { Transform: { Body: transform } } : {}),
    });
  }
}

const [target] = await (await fetch(`http://127.0.0.1:${worker.inspectorPort}/json/list`)).json();
const inspector = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve, reject) => inspector.once("open", resolve).once("error", reject));
let nextId = 0;
const pending = new Map();
inspector.on("message", (data) => {
  const message = JSON.parse(data.toString());
  if (message.id !== undefined && pending.has(message.id)) {
    pending.get(message.id)(message.result);
    pending.delete(message.id);
  }
});
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    inspector.send(JSON.stringify({ id, method, params }));
  });
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });

// Warm up first: compiling the code and the first requests' setup are not the steady state.
for (const { type } of SCENARIOS) await postEvents(type, 50);
while (delivered < 50 * SCENARIOS.reduce((sum, s) => sum + s.channels, 0)) await new Promise((r) => setTimeout(r, 100));

const results = [];
for (const { channels, type, label } of SCENARIOS) {
  const before = delivered;
  await send("Profiler.start");
  await postEvents(type, EVENTS);
  const deadline = Date.now() + 120_000;
  while (delivered - before < EVENTS * channels && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const { profile } = await send("Profiler.stop");
  const { intakeMs, consumerMs } = attribute(profile);
  results.push({ channels: label ?? channels, events: EVENTS, deliveries: delivered - before, intakeMs, consumerMs });
}

inspector.close();
await worker.stop();
receiver.close();

console.log(`\nWorker CPU (V8 profile of the worker's isolate, ${EVENTS} events a run):\n`);
console.log("| channels | per intake request | per delivery | per consumer batch of 10 (estimate) |");
console.log("| --- | --- | --- | --- |");
for (const r of results) {
  const perDelivery = r.consumerMs / r.deliveries;
  console.log(`| ${r.channels} | ${(r.intakeMs / r.events).toFixed(2)} ms | ${perDelivery.toFixed(2)} ms | ${(perDelivery * 10).toFixed(1)} ms |`);
}
console.log("\nA local batch is often smaller than 10 (max_batch_timeout = 0), so a batch of 10 is estimated as 10 deliveries' CPU.");

/** CPU milliseconds of the profile, split between the consumer and everything else. */
function attribute(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const side = new Map();
  const sideOf = (id) => {
    if (side.has(id)) return side.get(id);
    const node = nodes.get(id);
    const name = node.callFrame.functionName;
    let result;
    if (name === "(idle)") result = "idle";
    else if (CONSUMER_FUNCTIONS.has(name)) result = "consumer";
    else result = parent.has(id) ? sideOf(parent.get(id)) : "intake";
    side.set(id, result);
    return result;
  };
  const totals = { intake: 0, consumer: 0, idle: 0 };
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    totals[sideOf(id)] += ms;
    const name = `${sideOf(id)} ${nodes.get(id).callFrame.functionName || "(anonymous)"} ${nodes.get(id).callFrame.url.split("/").pop()}`;
    self.set(name, (self.get(name) ?? 0) + ms);
  });
  if (process.env.CPU_TOP)
    console.log(
      [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([k, v]) => `${v.toFixed(1).padStart(8)} ms  ${k}`)
        .join("\n"),
    );
  return { intakeMs: totals.intake, consumerMs: totals.consumer };
}

async function postEvents(type, count) {
  for (let i = 0; i < count; i++) {
    const n = ++serial;
    const res = await fetch(`${worker.url}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${worker.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ Event: type, Message: messageFor(type, n), Timestamp: new Date().toISOString() }),
    });
    if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
  }
}

function messageFor(type, n) {
  const createdAt = "2024-04-18T13:29:23Z";
  if (type === "ApplicationRegistered") return { ID: n, Name: `App ${n}`, UserID: 1, CreatedAt: createdAt };
  if (type === "UserRegistered") {
    return {
      ID: n,
      Email: `dev${n}@example.com`,
      First: "Dev",
      Last: `User ${n}`,
      OrgID: 1,
      Provider: "password",
      Status: "active",
      CreatedAt: createdAt,
      ByUser: 1,
      CustomAttributes: [],
    };
  }
  return { ID: n, ByUser: 1, AccessRequestID: n, AppID: 1, CreatedAt: createdAt };
}

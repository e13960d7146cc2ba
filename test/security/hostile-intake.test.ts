/**
 * A battery of hostile requests to intake: malformed bodies and envelopes, wrong tokens, and
 * every seed sample's Message fields of the wrong type or missing. Each the right 4xx, naming
 * the field, storing nothing.
 */
import { env } from "cloudflare:workers";
import { asDeployed, deployedIntake } from "../api/as-deployed";
import { INTAKE, request, seed } from "../helpers";
import { type Case, deep, runBattery } from "./battery";

/** For every seed sample, every Message field given the wrong type, and every required one left out. */
function eventShapeCases(): Case[] {
  const cases: Case[] = [];
  for (const { type, body } of seed) {
    const event = JSON.parse(body);
    for (const [field, value] of Object.entries(event.Message as Record<string, unknown>)) {
      const wrong = typeof value === "number" ? "1" : typeof value === "string" ? 1 : Array.isArray(value) ? "[]" : 1;
      const withWrong = JSON.stringify({ ...event, Message: { ...event.Message, [field]: wrong } });
      cases.push([`${type}: ${field} of the wrong type`, () => deployedIntake(withWrong), 422, new RegExp(`^Message\\.${field}: `)]);
      // Some events really come without ByUser (PasswordReset, OrganisationRequestApproved).
      if (field === "ByUser" && ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated"].includes(type)) continue;
      const { [field]: _, ...rest } = event.Message;
      cases.push([`${type}: ${field} missing`, () => deployedIntake(JSON.stringify({ ...event, Message: rest })), 422, new RegExp(`^Message\\.${field}: `)]);
    }
  }
  return cases;
}

const valid = JSON.parse(seed[0]!.body);

const battery: Case[] = [
  // Intake: the envelope and the body itself.
  ["intake: truncated JSON", () => deployedIntake(seed[0]!.body.slice(0, 80)), 400, /^body: /],
  ["intake: empty body", () => deployedIntake(""), 400, /^body: /],
  ["intake: a bare string", () => deployedIntake('"UserRegistered"'), 422, /^body: /],
  ["intake: null", () => deployedIntake("null"), 422, /^body: /],
  ["intake: deeply nested array", () => deployedIntake(deep(50_000)), 422, /^body: /],
  [
    "intake: deeply nested Message field",
    () => deployedIntake(JSON.stringify({ ...valid, Message: { ...valid.Message, ID: JSON.parse(deep(5000)) } })),
    422,
    /^Message\.ID: /,
  ],
  ["intake: over 256 KiB", () => deployedIntake(JSON.stringify({ ...valid, Message: { ...valid.Message, Pad: "x".repeat(262_144) } })), 413, /^body: /],
  [
    "intake: over 256 KiB with no Content-Length",
    () =>
      request(
        "/events",
        {
          method: "POST",
          headers: { ...INTAKE, "Content-Type": "application/json" },
          body: streamOf("x".repeat(300_000)),
          duplex: "half",
        } as RequestInit,
        asDeployed(),
      ),
    413,
    /^body: /,
  ],
  ["intake: text/plain", () => deployedIntake(seed[0]!.body, { "Content-Type": "text/plain" }), 415, /^Content-Type: /],
  ["intake: no Content-Type", () => request("/events", { method: "POST", headers: INTAKE, body: seed[0]!.body }, asDeployed()), 415, /^Content-Type: /],
  ["intake: application/jsonp", () => deployedIntake(seed[0]!.body, { "Content-Type": "application/jsonp" }), 415, /^Content-Type: /],
  ["intake: unknown Event", () => deployedIntake(JSON.stringify({ ...valid, Event: "UserDeleted" })), 422, /^Event: /],
  ["intake: Event of the wrong case", () => deployedIntake(JSON.stringify({ ...valid, Event: "userregistered" })), 422, /^Event: /],
  ["intake: Event a number", () => deployedIntake(JSON.stringify({ ...valid, Event: 3 })), 422, /^Event: /],
  ["intake: Timestamp missing", () => deployedIntake(JSON.stringify({ ...valid, Timestamp: undefined })), 422, /^Timestamp: /],
  ["intake: Timestamp without offset", () => deployedIntake(JSON.stringify({ ...valid, Timestamp: "2024-04-22T16:38:54" })), 422, /^Timestamp: /],
  ["intake: Timestamp month 13", () => deployedIntake(JSON.stringify({ ...valid, Timestamp: "2024-13-22T16:38:54Z" })), 422, /^Timestamp: /],
  ["intake: Timestamp unix seconds", () => deployedIntake(JSON.stringify({ ...valid, Timestamp: 1713796734 })), 422, /^Timestamp: /],
  ["intake: Message an array", () => deployedIntake(JSON.stringify({ ...valid, Message: [] })), 422, /^Message: /],
  ["intake: Message missing", () => deployedIntake(JSON.stringify({ ...valid, Message: undefined })), 422, /^Message: /],
  ["intake: Idempotency-Key too long", () => deployedIntake(seed[0]!.body, { "Idempotency-Key": "k".repeat(256) }), 422, /^Idempotency-Key: /],
  // Tokens.
  [
    "intake: no token",
    () => request("/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: seed[0]!.body }, asDeployed()),
    401,
    /^Authorization: /,
  ],
  ["intake: Basic auth", () => deployedIntake(seed[0]!.body, { Authorization: `Basic ${btoa(`x:${env.INTAKE_TOKEN}`)}` }), 401, /^Authorization: /],
  ["intake: token with a suffix", () => deployedIntake(seed[0]!.body, { Authorization: `Bearer ${env.INTAKE_TOKEN}x` }), 401, /^Authorization: /],
  // Found by attacking a running instance (the behaviour around each: input-limits.test.ts).
  [
    "intake: Event given twice",
    () =>
      deployedIntake(
        `{"Event":"OrganisationRegistered","Event":"UserRegistered","Message":${JSON.stringify(valid.Message)},"Timestamp":"2024-04-22T16:38:54Z"}`,
      ),
    422,
    /^Event: key given twice/,
  ],
  [
    "intake: 70,000 empty CustomAttributes",
    () => deployedIntake(JSON.stringify({ ...valid, Message: { ...valid.Message, CustomAttributes: Array(70_000).fill({}) } })),
    422,
    /^Message\.CustomAttributes: /,
  ],
  [
    "intake: a Message field nested 120,000 deep",
    () => deployedIntake(`{"Event":"UserRegistered","Message":{"Extra":${deep(120_000)}},"Timestamp":"2024-04-22T16:38:54Z"}`),
    422,
    /^Message\.Extra: nested deeper than 64 levels/,
  ],
  [
    "wrong method on intake",
    () => request("/events", { method: "DELETE", headers: INTAKE }, asDeployed()),
    405,
    /^method: DELETE is not allowed here; allowed: GET, HEAD, POST$/,
  ],
  ...eventShapeCases(),
];

function streamOf(text: string) {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 16_384) controller.enqueue(bytes.slice(i, i + 16_384));
      controller.close();
    },
  });
}

runBattery("hostile input to intake", battery);

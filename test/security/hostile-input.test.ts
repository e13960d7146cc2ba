/** A battery of hostile requests to intake and the admin API: each the right 4xx, naming the field, storing nothing. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asDeployed, deployedApi, deployedIntake } from "../api/as-deployed";
import { ADMIN, INTAKE, request, seed } from "../helpers";
import { rowCounts } from "./row-counts";

type Case = [name: string, send: () => Promise<Response>, status: number, field: RegExp];

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
const validChannel = { Name: "CRM", URL: "https://crm.example.com/hook", Events: ["UserRegistered"] };
const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

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
  [
    "admin: intake token",
    () => deployedApi("POST", "/portal-api/webhooks", validChannel, { Authorization: `Bearer ${env.INTAKE_TOKEN}` }),
    401,
    /^Authorization: /,
  ],
  [
    "admin: token prefix",
    () => deployedApi("POST", "/portal-api/webhooks", validChannel, { Authorization: `Bearer ${env.ADMIN_TOKEN!.slice(0, 5)}` }),
    401,
    /^Authorization: /,
  ],
  // Admin: channel bodies.
  ["admin: truncated JSON", () => deployedApi("POST", "/portal-api/webhooks", '{"Name": "CRM", "URL": '), 400, /^body: /],
  [
    "admin: form body",
    () =>
      request(
        "/portal-api/webhooks",
        { method: "POST", headers: { ...ADMIN, "Content-Type": "application/x-www-form-urlencoded" }, body: "Name=CRM" },
        asDeployed(),
      ),
    415,
    /^Content-Type: /,
  ],
  ["admin: array body", () => deployedApi("POST", "/portal-api/webhooks", [validChannel]), 422, /^body: /],
  [
    "admin: header injection in a value",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "v\r\nHost: evil" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: header name with a colon",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A: b", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: header name with unicode",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-Ä", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved webhook-id",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "webhook-id", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved Transfer-Encoding",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "TRANSFER-ENCODING", Value: "chunked" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  ["admin: Method DELETE", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Method: "DELETE" }), 422, /^Method: /],
  ["admin: Method null", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Method: null }), 422, /^Method: /],
  ["admin: Timeout negative", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Timeout: -1 }), 422, /^Timeout: /],
  ["admin: Timeout huge", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Timeout: 1e308 }), 422, /^Timeout: /],
  [
    "admin: Events with a duplicate unknown",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Events: ["UserRegistered", "Nope"] }),
    422,
    /^Events\.1: /,
  ],
  ["admin: URL decimal loopback", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://2130706433/" }), 422, /^URL: /],
  ["admin: URL metadata service", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://169.254.169.254/latest" }), 422, /^URL: /],
  ["admin: URL IPv4-mapped IPv6", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::ffff:10.0.0.1]/" }), 422, /^URL: /],
  ["admin: URL data:", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "data:text/plain,hi" }), 422, /^URL: /],
  [
    "admin: URL 3000 characters",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: `https://example.com/${"a".repeat(3000)}` }),
    422,
    /^URL: /,
  ],
  ["admin: page=0", () => deployedApi("GET", "/portal-api/webhooks?page=0"), 422, /^page: /],
  ["admin: per_page=1000", () => deployedApi("GET", "/portal-api/webhooks?per_page=1000"), 422, /^per_page: /],
  ["admin: page=abc", () => deployedApi("GET", "/portal-api/events?page=abc"), 422, /^page: /],
  ["admin: unknown webhook", () => deployedApi("GET", "/portal-api/webhooks/00000000-0000-0000-0000-000000000000"), 404, /^Webhook: /],
  ["admin: unknown webhook PATCH", () => deployedApi("PATCH", "/portal-api/webhooks/nope", { Name: "x" }), 404, /^Webhook: /],
  ["admin: unknown webhook test", () => deployedApi("POST", "/portal-api/webhooks/nope/test"), 404, /^Webhook: /],
  ["admin: unknown header", () => deployedApi("GET", "/portal-api/webhooks/nope/headers/nope"), 404, /^Webhook: /],
  ["admin: unknown delivery", () => deployedApi("POST", "/portal-api/deliveries/nope/redeliver"), 404, /^Delivery: /],
  ["admin: unknown event", () => deployedApi("GET", "/portal-api/events/' or 1=1 --"), 404, /^Event: /],
  ["admin: recover Since not a date", () => deployedApi("POST", "/portal-api/webhooks/nope/recover", { Since: "1 OR 1=1" }), 422, /^Since: /],
  ["unknown path", () => deployedApi("GET", "/portal-api/../../etc/passwd"), 404, /^path: /],
  // Found by attacking a running instance (the behaviour around each: input-limits.test.ts, target-url.test.ts, ../api/auth.test.ts, ../channels/headers.test.ts).
  [
    "admin: a path ending in /openapi.json, no token",
    () => request("/portal-api/webhooks/nope/headers/openapi.json", {}, asDeployed()),
    401,
    /^Authorization: /,
  ],
  [
    "admin: PATCH /webhooks/openapi.json, no token",
    () => request("/portal-api/webhooks/openapi.json", { method: "PATCH", headers: { "Content-Type": "application/json" }, body: deep(300_000) }, asDeployed()),
    401,
    /^Authorization: /,
  ],
  ["admin: body over 1 MiB", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Name: "x".repeat(1_100_000) }), 413, /^body: /],
  ["admin: body nested 300,000 deep", () => deployedApi("PATCH", "/portal-api/webhooks/nope", deep(300_000)), 422, /^body: /],
  ["admin: 150,000 invalid Events", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Events: Array(150_000).fill("x") }), 422, /^Events: /],
  [
    "admin: a field given twice",
    () => deployedApi("POST", "/portal-api/webhooks", '{"Name":"a","Name":"b","URL":"https://crm.example.com/","Events":["UserRegistered"]}'),
    422,
    /^Name: key given twice/,
  ],
  [
    "admin: an unknown field",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Fitler: { "Message.OrgID": 7 } }),
    422,
    /^Fitler: unknown field$/,
  ],
  [
    "admin: URL IPv4-compatible IPv6 loopback",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::127.0.0.1]/" }),
    422,
    /^URL: /,
  ],
  [
    "admin: URL IPv4-compatible metadata service",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::169.254.169.254]/" }),
    422,
    /^URL: /,
  ],
  [
    "admin: URL NAT64 of a private address",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[64:ff9b::10.0.0.1]/" }),
    422,
    /^URL: /,
  ],
  ["admin: URL 6to4 of loopback", () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[2002:7f00:1::]/" }), 422, /^URL: /],
  [
    "admin: header value with ESC",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "\u001b[2J" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: header value with DEL",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "a\u007f" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: reserved Expect",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "Expect", Value: "100-continue" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved Proxy-Authorization",
    () => deployedApi("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "Proxy-Authorization", Value: "x" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
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
  ["wrong method on intake", () => request("/events", { method: "DELETE", headers: INTAKE }, asDeployed()), 404, /^path: /],
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

describe(`hostile input: a battery of ${battery.length} cases`, () => {
  const titled = battery.map(([name, send, status, field]) => [`${name} → ${status}`, send, status, field] as const);
  it.each(titled)("%s, naming the field, storing nothing", async (_title, send, status, field) => {
    const before = await rowCounts();
    const res = await send();
    expect(res.status).toBe(status);
    const body = await res.json<{ errors: string[] }>();
    expect(body.errors.length).toBeGreaterThan(0);
    expect(body.errors.some((e) => field.test(e))).toBe(true);
    expect(await rowCounts()).toEqual(before);
  });
});

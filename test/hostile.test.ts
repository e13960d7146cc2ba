import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { secretBox } from "../src/security/secret-box";
import { targetUrlProblem } from "../src/security/target-url";
import { sweep } from "../src/sweeper/sweep";
import { recordingQueue } from "./doubles";
import { ADMIN, count, createChannel, INTAKE, seed, target } from "./helpers";

const TABLES = ["channels", "channel_events", "channel_headers", "events", "deliveries"];

async function rowCounts() {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`select count(*) as n from ${t}`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, (results[i]!.results[0] as { n: number }).n]));
}

/** The worker's app with a queue that only records, so nothing is sent anywhere. */
async function call(path: string, init: RequestInit = {}, bindings: Record<string, unknown> = {}): Promise<Response> {
  return app.request(path, init, { ...env, DELIVERIES: recordingQueue(), ALLOW_PRIVATE_TARGETS: "false", ...bindings });
}
const intake = (body: string, headers: Record<string, string> = {}) =>
  call("/events", { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json", ...headers }, body });
const adminJson = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method, headers: { ...ADMIN, "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

type Case = [name: string, send: () => Promise<Response>, status: number, field: RegExp];

/** For every seed sample, every Message field given the wrong type, and every required one left out. */
function eventShapeCases(): Case[] {
  const cases: Case[] = [];
  for (const { type, body } of seed) {
    const event = JSON.parse(body);
    for (const [field, value] of Object.entries(event.Message as Record<string, unknown>)) {
      const wrong = typeof value === "number" ? "1" : typeof value === "string" ? 1 : Array.isArray(value) ? "[]" : 1;
      const withWrong = JSON.stringify({ ...event, Message: { ...event.Message, [field]: wrong } });
      cases.push([`${type}: ${field} of the wrong type`, () => intake(withWrong), 422, new RegExp(`^Message\\.${field}: `)]);
      // Some events really come without ByUser (PasswordReset, OrganisationRequestApproved).
      if (field === "ByUser" && ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated"].includes(type)) continue;
      const { [field]: _, ...rest } = event.Message;
      cases.push([`${type}: ${field} missing`, () => intake(JSON.stringify({ ...event, Message: rest })), 422, new RegExp(`^Message\\.${field}: `)]);
    }
  }
  return cases;
}

const valid = JSON.parse(seed[0]!.body);
const validChannel = { Name: "CRM", URL: "https://crm.example.com/hook", Events: ["UserRegistered"] };
const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

const battery: Case[] = [
  // Intake: the envelope and the body itself.
  ["intake: truncated JSON", () => intake(seed[0]!.body.slice(0, 80)), 400, /^body: /],
  ["intake: empty body", () => intake(""), 400, /^body: /],
  ["intake: a bare string", () => intake('"UserRegistered"'), 422, /^body: /],
  ["intake: null", () => intake("null"), 422, /^body: /],
  ["intake: deeply nested array", () => intake(deep(50_000)), 422, /^body: /],
  [
    "intake: deeply nested Message field",
    () => intake(JSON.stringify({ ...valid, Message: { ...valid.Message, ID: JSON.parse(deep(5000)) } })),
    422,
    /^Message\.ID: /,
  ],
  ["intake: over 256 KiB", () => intake(JSON.stringify({ ...valid, Message: { ...valid.Message, Pad: "x".repeat(262_144) } })), 413, /^body: /],
  [
    "intake: over 256 KiB with no Content-Length",
    () =>
      call("/events", {
        method: "POST",
        headers: { ...INTAKE, "Content-Type": "application/json" },
        body: streamOf("x".repeat(300_000)),
        duplex: "half",
      } as RequestInit),
    413,
    /^body: /,
  ],
  ["intake: text/plain", () => intake(seed[0]!.body, { "Content-Type": "text/plain" }), 415, /^Content-Type: /],
  ["intake: no Content-Type", () => call("/events", { method: "POST", headers: INTAKE, body: seed[0]!.body }), 415, /^Content-Type: /],
  ["intake: application/jsonp", () => intake(seed[0]!.body, { "Content-Type": "application/jsonp" }), 415, /^Content-Type: /],
  ["intake: unknown Event", () => intake(JSON.stringify({ ...valid, Event: "UserDeleted" })), 422, /^Event: /],
  ["intake: Event of the wrong case", () => intake(JSON.stringify({ ...valid, Event: "userregistered" })), 422, /^Event: /],
  ["intake: Event a number", () => intake(JSON.stringify({ ...valid, Event: 3 })), 422, /^Event: /],
  ["intake: Timestamp missing", () => intake(JSON.stringify({ ...valid, Timestamp: undefined })), 422, /^Timestamp: /],
  ["intake: Timestamp without offset", () => intake(JSON.stringify({ ...valid, Timestamp: "2024-04-22T16:38:54" })), 422, /^Timestamp: /],
  ["intake: Timestamp month 13", () => intake(JSON.stringify({ ...valid, Timestamp: "2024-13-22T16:38:54Z" })), 422, /^Timestamp: /],
  ["intake: Timestamp unix seconds", () => intake(JSON.stringify({ ...valid, Timestamp: 1713796734 })), 422, /^Timestamp: /],
  ["intake: Message an array", () => intake(JSON.stringify({ ...valid, Message: [] })), 422, /^Message: /],
  ["intake: Message missing", () => intake(JSON.stringify({ ...valid, Message: undefined })), 422, /^Message: /],
  ["intake: Idempotency-Key too long", () => intake(seed[0]!.body, { "Idempotency-Key": "k".repeat(256) }), 422, /^Idempotency-Key: /],
  // Tokens.
  [
    "intake: no token",
    () => call("/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: seed[0]!.body }),
    401,
    /^Authorization: /,
  ],
  ["intake: Basic auth", () => intake(seed[0]!.body, { Authorization: `Basic ${btoa(`x:${env.INTAKE_TOKEN}`)}` }), 401, /^Authorization: /],
  ["intake: token with a suffix", () => intake(seed[0]!.body, { Authorization: `Bearer ${env.INTAKE_TOKEN}x` }), 401, /^Authorization: /],
  [
    "admin: intake token",
    () => adminJson("POST", "/portal-api/webhooks", validChannel, { Authorization: `Bearer ${env.INTAKE_TOKEN}` }),
    401,
    /^Authorization: /,
  ],
  [
    "admin: token prefix",
    () => adminJson("POST", "/portal-api/webhooks", validChannel, { Authorization: `Bearer ${env.ADMIN_TOKEN!.slice(0, 5)}` }),
    401,
    /^Authorization: /,
  ],
  // Admin: channel bodies.
  ["admin: truncated JSON", () => adminJson("POST", "/portal-api/webhooks", '{"Name": "CRM", "URL": '), 400, /^body: /],
  [
    "admin: form body",
    () => call("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/x-www-form-urlencoded" }, body: "Name=CRM" }),
    415,
    /^Content-Type: /,
  ],
  ["admin: array body", () => adminJson("POST", "/portal-api/webhooks", [validChannel]), 422, /^body: /],
  [
    "admin: header injection in a value",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "v\r\nHost: evil" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: header name with a colon",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A: b", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: header name with unicode",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-Ä", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved webhook-id",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "webhook-id", Value: "v" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved Transfer-Encoding",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "TRANSFER-ENCODING", Value: "chunked" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  ["admin: Method DELETE", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Method: "DELETE" }), 422, /^Method: /],
  ["admin: Method null", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Method: null }), 422, /^Method: /],
  ["admin: Timeout negative", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Timeout: -1 }), 422, /^Timeout: /],
  ["admin: Timeout huge", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Timeout: 1e308 }), 422, /^Timeout: /],
  [
    "admin: Events with a duplicate unknown",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Events: ["UserRegistered", "Nope"] }),
    422,
    /^Events\.1: /,
  ],
  ["admin: URL decimal loopback", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://2130706433/" }), 422, /^URL: /],
  ["admin: URL metadata service", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://169.254.169.254/latest" }), 422, /^URL: /],
  ["admin: URL IPv4-mapped IPv6", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::ffff:10.0.0.1]/" }), 422, /^URL: /],
  ["admin: URL data:", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "data:text/plain,hi" }), 422, /^URL: /],
  [
    "admin: URL 3000 characters",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: `https://example.com/${"a".repeat(3000)}` }),
    422,
    /^URL: /,
  ],
  ["admin: page=0", () => call("/portal-api/webhooks?page=0", { headers: ADMIN }), 422, /^page: /],
  ["admin: per_page=1000", () => call("/portal-api/webhooks?per_page=1000", { headers: ADMIN }), 422, /^per_page: /],
  ["admin: page=abc", () => call("/portal-api/events?page=abc", { headers: ADMIN }), 422, /^page: /],
  ["admin: unknown webhook", () => call("/portal-api/webhooks/00000000-0000-0000-0000-000000000000", { headers: ADMIN }), 404, /^Webhook: /],
  ["admin: unknown webhook PATCH", () => adminJson("PATCH", "/portal-api/webhooks/nope", { Name: "x" }), 404, /^Webhook: /],
  ["admin: unknown webhook test", () => call("/portal-api/webhooks/nope/test", { method: "POST", headers: ADMIN }), 404, /^Webhook: /],
  ["admin: unknown header", () => call("/portal-api/webhooks/nope/headers/nope", { headers: ADMIN }), 404, /^Webhook: /],
  ["admin: unknown delivery", () => call("/portal-api/deliveries/nope/redeliver", { method: "POST", headers: ADMIN }), 404, /^Delivery: /],
  ["admin: unknown event", () => call("/portal-api/events/' or 1=1 --", { headers: ADMIN }), 404, /^Event: /],
  ["admin: recover Since not a date", () => adminJson("POST", "/portal-api/webhooks/nope/recover", { Since: "1 OR 1=1" }), 422, /^Since: /],
  ["unknown path", () => call("/portal-api/../../etc/passwd", { headers: ADMIN }), 404, /^path: /],
  // Found by attacking a running instance (see attacks.test.ts for the behaviour around each).
  ["admin: a path ending in /openapi.json, no token", () => call("/portal-api/webhooks/nope/headers/openapi.json"), 401, /^Authorization: /],
  [
    "admin: PATCH /webhooks/openapi.json, no token",
    () => call("/portal-api/webhooks/openapi.json", { method: "PATCH", headers: { "Content-Type": "application/json" }, body: deep(300_000) }),
    401,
    /^Authorization: /,
  ],
  ["admin: body over 1 MiB", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Name: "x".repeat(1_100_000) }), 413, /^body: /],
  ["admin: body nested 300,000 deep", () => adminJson("PATCH", "/portal-api/webhooks/nope", deep(300_000)), 422, /^body: /],
  ["admin: 150,000 invalid Events", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Events: Array(150_000).fill("x") }), 422, /^Events: /],
  [
    "admin: a field given twice",
    () => adminJson("POST", "/portal-api/webhooks", '{"Name":"a","Name":"b","URL":"https://crm.example.com/","Events":["UserRegistered"]}'),
    422,
    /^Name: key given twice/,
  ],
  [
    "admin: an unknown field",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Fitler: { "Message.OrgID": 7 } }),
    422,
    /^Fitler: unknown field$/,
  ],
  [
    "admin: URL IPv4-compatible IPv6 loopback",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::127.0.0.1]/" }),
    422,
    /^URL: /,
  ],
  [
    "admin: URL IPv4-compatible metadata service",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[::169.254.169.254]/" }),
    422,
    /^URL: /,
  ],
  [
    "admin: URL NAT64 of a private address",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[64:ff9b::10.0.0.1]/" }),
    422,
    /^URL: /,
  ],
  ["admin: URL 6to4 of loopback", () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, URL: "http://[2002:7f00:1::]/" }), 422, /^URL: /],
  [
    "admin: header value with ESC",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "\u001b[2J" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: header value with DEL",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "X-A", Value: "a\u007f" }] }),
    422,
    /^Headers\.0\.Value: /,
  ],
  [
    "admin: reserved Expect",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "Expect", Value: "100-continue" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "admin: reserved Proxy-Authorization",
    () => adminJson("POST", "/portal-api/webhooks", { ...validChannel, Headers: [{ Name: "Proxy-Authorization", Value: "x" }] }),
    422,
    /^Headers\.0\.Name: /,
  ],
  [
    "intake: Event given twice",
    () => intake(`{"Event":"OrganisationRegistered","Event":"UserRegistered","Message":${JSON.stringify(valid.Message)},"Timestamp":"2024-04-22T16:38:54Z"}`),
    422,
    /^Event: key given twice/,
  ],
  [
    "intake: 70,000 empty CustomAttributes",
    () => intake(JSON.stringify({ ...valid, Message: { ...valid.Message, CustomAttributes: Array(70_000).fill({}) } })),
    422,
    /^Message\.CustomAttributes: /,
  ],
  [
    "intake: a Message field nested 120,000 deep",
    () => intake(`{"Event":"UserRegistered","Message":{"Extra":${deep(120_000)}},"Timestamp":"2024-04-22T16:38:54Z"}`),
    422,
    /^Message\.Extra: nested deeper than 64 levels/,
  ],
  ["wrong method on intake", () => call("/events", { method: "DELETE", headers: INTAKE }), 404, /^path: /],
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

describe("properties", () => {
  const runs = { numRuns: 150 };

  it("intake never answers 5xx to arbitrary JSON, and stores only what it accepts", async () => {
    const envelope = fc.record(
      {
        Event: fc.oneof(fc.constantFrom(...seed.map((s) => s.type), "RegisterInvite"), fc.string()),
        Message: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom("ID", "Email", "CreatedAt", "ByUser", "ProductIDs", "Name"), fc.jsonValue())),
        Timestamp: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), envelope), async (value) => {
        const before = await rowCounts();
        const res = await intake(JSON.stringify(value) ?? "null");
        expect(res.status).toBeLessThan(500);
        if (res.status !== 202 && res.status !== 200) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });

  it("intake never answers 5xx to arbitrary strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary" }), async (text) => {
        const before = await rowCounts();
        const res = await intake(text);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });

  it("the channel API never answers 5xx, and stores nothing it refuses", async () => {
    const channelish = fc.record(
      {
        Name: fc.oneof(fc.string(), fc.jsonValue()),
        URL: fc.oneof(fc.webUrl(), fc.string(), fc.jsonValue()),
        Method: fc.oneof(fc.constantFrom("POST", "PUT", "PATCH", "GET"), fc.jsonValue()),
        Timeout: fc.oneof(fc.integer({ min: -5, max: 70 }), fc.double(), fc.jsonValue()),
        Events: fc.oneof(fc.array(fc.constantFrom("UserRegistered", "Nope")), fc.jsonValue()),
        Headers: fc.oneof(fc.array(fc.record({ Name: fc.string(), Value: fc.string() }), { maxLength: 22 }), fc.jsonValue()),
        Enabled: fc.oneof(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(channelish, fc.jsonValue()), fc.constantFrom("POST", "PATCH"), async (body, method) => {
        const channel = method === "PATCH" ? ((await env.DB.prepare("select id from channels limit 1").first<{ id: string }>())?.id ?? "nope") : "";
        const before = await rowCounts();
        const res = await adminJson(method, `/portal-api/webhooks${channel ? `/${channel}` : ""}`, JSON.stringify(body) ?? "null");
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await rowCounts()).toEqual(before);
      }),
      runs,
    );
  });

  it("the target-URL guard refuses every blocked IPv4 address, however it is spelled", () => {
    const ranges: [number, number][] = [
      [0x00000000, 8],
      [0x0a000000, 8],
      [0x7f000000, 8],
      [0x64400000, 10],
      [0xa9fe0000, 16],
      [0xac100000, 12],
      [0xc0a80000, 16],
      [0xc0000000, 24],
      [0xc6120000, 15],
      [0xe0000000, 4],
      [0xf0000000, 4],
    ];
    const blocked = fc.tuple(fc.constantFrom(...ranges), fc.nat()).map(([[base, bits], n]) => (base | (n & (2 ** (32 - bits) - 1))) >>> 0);
    const octets = (ip: number) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
    const spell = (ip: number, style: number): string => {
      const [a, b, c, d] = octets(ip) as [number, number, number, number];
      switch (style) {
        case 0:
          return `${a}.${b}.${c}.${d}`;
        case 1:
          return String(ip);
        case 2:
          return `0x${ip.toString(16)}`;
        case 3:
          return [a, b, c, d].map((o) => `0x${o.toString(16)}`).join(".");
        case 4:
          return [a, b, c, d].map((o) => `0${o.toString(8)}`).join(".");
        case 5:
          return `${a}.${(b << 16) | (c << 8) | d}`;
        case 6:
          return `${a}.${b}.${(c << 8) | d}`;
        case 7:
          return `0${ip.toString(8)}`;
        case 8:
          return `[::ffff:${a}.${b}.${c}.${d}]`;
        case 9:
          return `[::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}]`;
        case 10:
          return `[0:0:0:0:0:ffff:${a}.${b}.${c}.${d}]`;
        default:
          return `${a}.${b}.${c}.${d}.`;
      }
    };
    fc.assert(
      fc.property(
        blocked,
        fc.integer({ min: 0, max: 11 }),
        fc.constantFrom("http", "https"),
        fc.constantFrom("", ":80", ":8443"),
        (ip, style, scheme, port) => {
          const url = `${scheme}://${spell(ip, style)}${port}/hook`;
          expect(targetUrlProblem(url, false), url).not.toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("the target-URL guard refuses every blocked IPv6 address, compressed or not", () => {
    const prefixes: [number, number][] = [
      [0xfe80, 10],
      [0xfc00, 7],
      [0xff00, 8],
    ];
    const blocked = fc
      .tuple(fc.constantFrom(...prefixes), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }))
      .map(([[base, bits], groups]) => {
        const mask = (0xffff << (16 - bits)) & 0xffff;
        groups[0] = (base & mask) | (groups[0]! & ~mask & 0xffff);
        return groups;
      });
    fc.assert(
      fc.property(fc.oneof(blocked, fc.constant([0, 0, 0, 0, 0, 0, 0, 1]), fc.constant([0, 0, 0, 0, 0, 0, 0, 0])), fc.boolean(), (groups, full) => {
        const text = groups.map((g) => g.toString(16).padStart(full ? 4 : 1, "0")).join(":");
        expect(targetUrlProblem(`https://[${text}]/`, false), text).not.toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});

describe("secrets at rest", () => {
  async function dump(): Promise<string> {
    const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`select * from ${t}`)));
    return JSON.stringify(results.map((r) => r.results));
  }

  it("stores signing secrets and header values only encrypted, and still returns them to an admin", async () => {
    const channel = await createChannel({ Headers: [{ Name: "Authorization", Value: "Bearer crm-live-4f9a1c" }] });
    const { Secret } = await (await call(`/portal-api/webhooks/${channel.ID}/secret`, { headers: ADMIN })).json<any>();
    await call(`/portal-api/webhooks/${channel.ID}/secret/rotate`, { method: "POST", headers: ADMIN });
    const rotated = await (await call(`/portal-api/webhooks/${channel.ID}/secret`, { headers: ADMIN })).json<any>();

    const all = await dump();
    for (const plain of ["crm-live-4f9a1c", Secret, Secret.slice(6), rotated.Secret, rotated.Secret.slice(6)]) {
      expect(all).not.toContain(plain);
    }
    expect(channel.Headers[0]!.Value).toBe("Bearer crm-live-4f9a1c");
    expect(rotated.PreviousSecret).toBe(Secret);
  });

  it("fails closed, saying why, when ENCRYPTION_KEY is missing", async () => {
    const res = await call(
      "/portal-api/webhooks",
      { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify(validChannel) },
      { ENCRYPTION_KEY: undefined },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ errors: ["ENCRYPTION_KEY: not configured on this deployment"], RequestId: res.headers.get("X-Request-Id") });
  });

  it("rotates ENCRYPTION_KEY: the previous key still decrypts, and the sweeper re-encrypts everything", async () => {
    const channel = await createChannel({ Headers: [{ Name: "X-Key", Value: "rotate-me" }] });
    const oldKey = env.ENCRYPTION_KEY!;
    const newKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

    const rotating = { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey };
    const during = await (await call(`/portal-api/webhooks/${channel.ID}`, { headers: ADMIN }, rotating)).json<any>();
    expect(during.Headers[0].Value).toBe("rotate-me");

    // Every channel the other tests left behind moves too, a slice per run, until none is left.
    const prefix = async (key: string) => `${(await secretBox({ ENCRYPTION_KEY: key })).currentPrefix}%`;
    const stale = async () => count("channels", "secret not like ?", await prefix(newKey));
    for (let i = 0; i < 20 && (await sweep({ ...env, DELIVERIES: recordingQueue() as never, ...rotating })).reencrypted > 0; i++);
    expect(await stale()).toBe(0);
    const after = await (await call(`/portal-api/webhooks/${channel.ID}`, { headers: ADMIN }, { ENCRYPTION_KEY: newKey })).json<any>();
    expect(after.Headers[0].Value).toBe("rotate-me");
    const old = await call(`/portal-api/webhooks/${channel.ID}`, { headers: ADMIN }, { ENCRYPTION_KEY: oldKey });
    expect(old.status).toBe(503);

    // Back to the test key for the rest of the suite, and checked back.
    const back = { ENCRYPTION_KEY: oldKey, ENCRYPTION_KEY_PREVIOUS: newKey };
    for (let i = 0; i < 20 && (await sweep({ ...env, DELIVERIES: recordingQueue() as never, ...back })).reencrypted > 0; i++);
    expect(await count("channels", "secret not like ?", await prefix(oldKey))).toBe(0);
  });
});

describe("nothing leaked", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs hold no token, secret, header value or payload during intake and delivery", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const url = target("status/500");
    const channel = await createChannel({ URL: url, Events: ["RegisterInvite"], Headers: [{ Name: "X-Api-Key", Value: "hdr-value-7d1e" }] });
    const { Secret } = await (await call(`/portal-api/webhooks/${channel.ID}/secret`, { headers: ADMIN })).json<any>();
    const queue = recordingQueue();
    const body = JSON.stringify({ Event: "RegisterInvite", Message: { Email: "payload-marker-93b2@example.com" }, Timestamp: new Date().toISOString() });
    const accepted = await call(
      "/events",
      { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body },
      { DELIVERIES: queue, ALLOW_PRIVATE_TARGETS: "true" },
    );
    expect(accepted.status).toBe(202);
    await intake(body, { Authorization: "Bearer wrong-token-value" });

    const { createMessageBatch, createExecutionContext, getQueueResult } = await import("cloudflare:test");
    const worker = (await import("../src/index")).default as unknown as { queue: ExportedHandlerQueueHandler<typeof env, { deliveryId: string }> };
    const batch = createMessageBatch<{ deliveryId: string }>(
      "tyk-webhook-deliveries",
      queue.sent.flat().map(({ body }, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    await getQueueResult(batch, ctx);

    // The failed attempt is logged (successes are only in D1).
    expect(lines.some((line) => line.includes('"attempt failed"'))).toBe(true);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const secret of [
        env.ADMIN_TOKEN!,
        env.INTAKE_TOKEN!,
        "wrong-token-value",
        "hdr-value-7d1e",
        "payload-marker-93b2",
        Secret,
        Secret.slice(6),
        env.ENCRYPTION_KEY!,
      ]) {
        expect(line).not.toContain(secret);
      }
    }
  });

  it("an internal error answers 500 without a stack trace or internals", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      prepare: () => {
        throw new Error("D1_ERROR: secret internals at line 42");
      },
      batch: () => Promise.reject(new Error("D1_ERROR: secret internals")),
    };
    const res = await call("/portal-api/events", { headers: ADMIN }, { DB: broken });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: ["server: internal error"], RequestId: res.headers.get("X-Request-Id") });
    expect(text).not.toContain("internals");
  });
});

describe("the browser side", () => {
  it("serves the UI with a strict Content-Security-Policy, and no inline script or style", async () => {
    const res = await call("/");
    expect(res.status).toBe(200);
    const csp = res.headers.get("Content-Security-Policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/js/main.js">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|\son\w+=/);

    const js = await call("/js/main.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Security-Policy")).toBeTruthy();
  });

  it("sends no CORS headers on the API", async () => {
    const preflight = await call("/portal-api/webhooks", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const get = await call("/portal-api/webhooks", { headers: { ...ADMIN, Origin: "https://evil.example" } });
    expect(get.status).toBe(200);
    expect(get.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers an unknown path outside the API with the JSON 404", async () => {
    const res = await call("/no-such-page");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: ["path: not found"] });
  });
});

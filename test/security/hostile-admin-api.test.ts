/**
 * A battery of hostile requests to the admin API: wrong tokens, channel bodies (headers,
 * methods, timeouts, events, URLs), paging, unknown IDs and paths, and what an attack on a
 * running instance found. Each the right 4xx, naming the field, storing nothing.
 */
import { env } from "cloudflare:workers";
import { asDeployed, deployedApi } from "../api/as-deployed";
import { ADMIN, request } from "../helpers";
import { type Case, deep, runBattery } from "./battery";

const validChannel = { Name: "CRM", URL: "https://crm.example.com/hook", Events: ["UserRegistered"] };

const battery: Case[] = [
  // Tokens.
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
];

runBattery("hostile input to the admin API", battery);

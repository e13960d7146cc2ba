import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { targetUrlProblem } from "../src/security/target-url";
import { recordingQueue } from "./doubles";
import { ADMIN, count, createChannel, delivery, makeDelivery } from "./helpers";

/** The admin API as deployed: private targets refused. */
function publicApi(method: string, path: string, body?: unknown) {
  return app.request(
    path,
    { method, headers: { ...ADMIN, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) },
    { ...env, ALLOW_PRIVATE_TARGETS: "false" },
  );
}

const valid = { Name: "CRM", URL: "https://crm.example.com/hooks", Events: ["UserRegistered"] };

describe("channel validation", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["Name missing", { Name: undefined }, /^Name: /],
    ["Name empty", { Name: "  " }, /^Name: must not be empty/],
    ["Name too long", { Name: "x".repeat(201) }, /^Name: /],
    ["URL missing", { URL: undefined }, /^URL: /],
    ["URL not a URL", { URL: "crm.example.com/hooks" }, /^URL: must be an absolute http or https URL/],
    ["URL ftp", { URL: "ftp://crm.example.com/x" }, /^URL: must use http or https/],
    ["URL javascript:", { URL: "javascript:alert(1)" }, /^URL: must use http or https/],
    ["URL with credentials", { URL: "https://user:pass@crm.example.com/" }, /^URL: must not contain a user name or password/],
    ["URL with a user only", { URL: "https://user@crm.example.com/" }, /^URL: must not contain a user name or password/],
    ["Method GET", { Method: "GET" }, /^Method: must be one of POST, PUT, PATCH/],
    ["Method lowercase", { Method: "post" }, /^Method: /],
    ["Timeout 0", { Timeout: 0 }, /^Timeout: must be at least 1/],
    ["Timeout 61", { Timeout: 61 }, /^Timeout: must be at most 60/],
    ["Timeout fractional", { Timeout: 1.5 }, /^Timeout: must be a whole number/],
    ["Timeout string", { Timeout: "10" }, /^Timeout: /],
    ["Events missing", { Events: undefined }, /^Events: /],
    ["Events empty", { Events: [] }, /^Events: must name at least one event type/],
    ["Events unknown", { Events: ["UserExploded"] }, /^Events\.0: must be one of /],
    ["Events not an array", { Events: "UserRegistered" }, /^Events: /],
    ["Header name with a space", { Headers: [{ Name: "X Bad", Value: "v" }] }, /^Headers\.0\.Name: must be a valid HTTP header name/],
    ["Header name empty", { Headers: [{ Name: "", Value: "v" }] }, /^Headers\.0\.Name: /],
    ["Header Host", { Headers: [{ Name: "Host", Value: "evil" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header content-type", { Headers: [{ Name: "content-type", Value: "text/plain" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Content-Length", { Headers: [{ Name: "Content-Length", Value: "1" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Transfer-Encoding", { Headers: [{ Name: "Transfer-Encoding", Value: "chunked" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Connection", { Headers: [{ Name: "Connection", Value: "close" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header Webhook-Signature", { Headers: [{ Name: "Webhook-Signature", Value: "v1,x" }] }, /^Headers\.0\.Name: is reserved/],
    ["Header value with CRLF", { Headers: [{ Name: "X-A", Value: "a\r\nX-Injected: 1" }] }, /^Headers\.0\.Value: must hold only visible ASCII/],
    ["Header value with LF", { Headers: [{ Name: "X-A", Value: "a\nb" }] }, /^Headers\.0\.Value: /],
    ["Header value not a string", { Headers: [{ Name: "X-A", Value: 1 }] }, /^Headers\.0\.Value: /],
    ["21 headers", { Headers: Array.from({ length: 21 }, (_, i) => ({ Name: `X-${i}`, Value: "v" })) }, /^Headers: must hold at most 20 headers/],
    [
      "a header named twice",
      {
        Headers: [
          { Name: "X-A", Value: "1" },
          { Name: "x-a", Value: "2" },
        ],
      },
      /^Headers: must not name a header twice/,
    ],
    ["Enabled a string", { Enabled: "yes" }, /^Enabled: /],
  ];

  it.each(cases)("create refuses %s with 422 naming the field, storing nothing", async (_name, fields, message) => {
    const before = await count("channels");
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, ...fields });
    expect(res.status).toBe(422);
    const body = await res.json<any>();
    expect(body.errors.some((e: string) => message.test(e))).toBe(true);
    expect(await count("channels")).toBe(before);
  });

  it("reports every bad field at once", async () => {
    const res = await publicApi("POST", "/portal-api/webhooks", { Name: "", Timeout: 99, Events: [] });
    const { errors } = await res.json<any>();
    expect(errors.map((e: string) => e.split(":")[0]).sort()).toEqual(["Events", "Name", "Timeout", "URL"]);
  });

  it("PATCH applies the same rules, and changes nothing when refused", async () => {
    const channel = await createChannel();
    for (const patch of [{ Timeout: 0 }, { URL: "http://127.0.0.1/x" }, { Headers: [{ Name: "Host", Value: "x" }] }, { Events: [] }]) {
      const res = await publicApi("PATCH", `/portal-api/webhooks/${channel.ID}`, patch);
      expect(res.status).toBe(422);
    }
    const row = await env.DB.prepare("select timeout_seconds, url from channels where id = ?").bind(channel.ID).first();
    expect(row).toEqual({ timeout_seconds: 10, url: channel.URL });
  });

  it("refuses malformed JSON with 400 and a non-JSON body with 415", async () => {
    const bad = await app.request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: "{" }, env);
    expect(bad.status).toBe(400);
    expect((await bad.json<any>()).errors[0]).toMatch(/^body: /);
    const text = await app.request("/portal-api/webhooks", { method: "POST", headers: { ...ADMIN, "Content-Type": "text/plain" }, body: "x" }, env);
    expect(text.status).toBe(415);
    expect((await text.json<any>()).errors[0]).toMatch(/^Content-Type: /);
  });

  it("header routes apply the header rules", async () => {
    const channel = await createChannel();
    const bad = await publicApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "Webhook-Id", Value: "x" });
    expect(bad.status).toBe(422);
    expect((await bad.json<any>()).errors[0]).toMatch(/^Name: is reserved/);
    const crlf = await publicApi("POST", `/portal-api/webhooks/${channel.ID}/headers`, { Name: "X-A", Value: "a\r\nb" });
    expect(crlf.status).toBe(422);
    expect(await count("channel_headers", "channel_id = ?", channel.ID)).toBe(0);
  });
});

describe("target-URL guard", () => {
  const dangerous = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
    "http://%6c%6f%63%61%6c%68%6f%73%74/",
    "http://127.0.0.1.nip.io.localhost/",
    "https://user:pw@example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ws://example.com/",
  ];

  it.each(dangerous)("refuses %s", async (url) => {
    expect(targetUrlProblem(url, false)).not.toBeNull();
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^URL: /);
  });

  const safe = [
    "https://crm.example.com/hooks/tyk",
    "https://api.moesif.com:8443/x?y=1",
    // Cloudflare's proxy forwards these; a host not behind it gets them as written.
    "https://crm.example.com:2053/",
    "https://crm.example.com:443/",
    "http://crm.example.com:8080/",
    "http://crm.example.com:8880/",
    "http://crm.example.com:80/",
  ];
  it.each(safe)("accepts %s", async (url) => {
    expect(targetUrlProblem(url, false)).toBeNull();
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(201);
  });

  // Workers cannot fetch IP addresses (error 1003), public or not, nor reach a port that
  // Cloudflare's proxy ignores for a host behind it (the request would go to 443 or 80).
  const unreachable: [string, string][] = [
    ["http://93.184.216.34/hook", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://8.8.8.8/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://[2606:4700:4700::1111]/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://134744072/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["http://[::1]/", "must not target a loopback address"],
    ["http://[0:0:0:0:0:0:0:1]:8080/", "must not target a loopback address"],
    ["http://[::]/", "must not target an unspecified address (0.0.0.0 or ::)"],
    ["http://0.0.0.0/", "must not target an unspecified address (0.0.0.0 or ::)"],
    ["http://[::127.0.0.1]/", "must not target an IPv4-compatible IPv6 address (::/96, deprecated)"],
    ["http://[64:ff9b::7f00:1]/", "must not target an rfc6052 address"],
    ["http://[fd00::1]/", "must not target a unique local address"],
    [
      "https://crm.example.com:9000/hooks",
      "port 9000 cannot be used with https: Cloudflare's proxy forwards only 443, 2053, 2083, 2087, 2096, 8443 (another port is ignored for a host behind it)",
    ],
    [
      "https://crm.example.com:8080/",
      "port 8080 cannot be used with https: Cloudflare's proxy forwards only 443, 2053, 2083, 2087, 2096, 8443 (another port is ignored for a host behind it)",
    ],
    [
      "http://crm.example.com:8443/",
      "port 8443 cannot be used with http: Cloudflare's proxy forwards only 80, 8080, 8880, 2052, 2082, 2086, 2095 (another port is ignored for a host behind it)",
    ],
    [
      "http://crm.example.com:3000/",
      "port 3000 cannot be used with http: Cloudflare's proxy forwards only 80, 8080, 8880, 2052, 2082, 2086, 2095 (another port is ignored for a host behind it)",
    ],
  ];
  it.each(unreachable)("refuses %s at save with 422 naming URL, storing nothing", async (url, why) => {
    expect(targetUrlProblem(url, false)).toBe(why);
    const before = await count("channels");
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ errors: [`URL: ${why}`] });
    expect(await count("channels")).toBe(before);
  });

  it("refuses them on PATCH too, keeping the URL", async () => {
    const channel = await createChannel();
    for (const url of ["https://8.8.8.8/", "https://crm.example.com:9000/"]) {
      const res = await publicApi("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: url });
      expect(res.status).toBe(422);
      expect((await res.json<any>()).errors[0]).toMatch(/^URL: /);
    }
    expect((await env.DB.prepare("select url from channels where id = ?").bind(channel.ID).first<{ url: string }>())!.url).toBe(channel.URL);
  });

  it.each(["https://crm.example.com/ho\u0000ok", "https://crm.example.com/a\nb", "https://crm.example.com/\u007f"])(
    "refuses a URL with a control character (%j), storing nothing",
    async (url) => {
      const before = await count("channels");
      const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({ errors: ["URL: must not contain control characters"] });
      expect(await count("channels")).toBe(before);
    },
  );

  it("lets IP addresses and any port through when ALLOW_PRIVATE_TARGETS is true (local development)", () => {
    for (const url of ["https://8.8.8.8/", "https://[2606:4700:4700::1111]:9000/", "http://127.0.0.1:8789/hook", "https://crm.example.com:9000/"]) {
      expect(targetUrlProblem(url, true), url).toBeNull();
    }
  });

  it("lets loopback through only when ALLOW_PRIVATE_TARGETS is true, but never credentials or other schemes", () => {
    expect(targetUrlProblem("http://127.0.0.1:9999/hook", true)).toBeNull();
    expect(targetUrlProblem("http://localhost/", true)).toBeNull();
    expect(targetUrlProblem("http://u:p@localhost/", true)).not.toBeNull();
    expect(targetUrlProblem("file:///etc/passwd", true)).not.toBeNull();
  });
});

/** An admin call with a raw JSON text body (numbers JSON.stringify cannot write), private targets refused. */
function rawApi(method: string, path: string, text?: string) {
  return app.request(
    path,
    { method, headers: { ...ADMIN, ...(text === undefined ? {} : { "Content-Type": "application/json" }) }, body: text },
    { ...env, DELIVERIES: recordingQueue(), ALLOW_PRIVATE_TARGETS: "false" },
  );
}

const errorsOf = async (res: Response) => (await res.json<{ errors: string[] }>()).errors;

/** A failed delivery of a fresh channel, and its row as stored. */
async function failedDelivery() {
  const channel = await createChannel();
  const { deliveryId } = await makeDelivery(channel.ID);
  await env.DB.prepare("update deliveries set status = 'failed', next_attempt_at = null where id = ?").bind(deliveryId).run();
  return { channel, deliveryId, row: await delivery(deliveryId) };
}

describe("times: RFC 3339, and they must exist", () => {
  const LEAP = "2024-06-30T23:59:60Z";
  const FEB31 = "2024-02-31T00:00:00Z";
  const leapWhy = "must be a time that exists: second 60 (a leap second) is not accepted";
  const feb31Why = "must be a date that exists: February 2024 has 29 days";

  const queries: [string, string][] = [
    ["stats until, a leap second", `/portal-api/stats?until=${LEAP}`],
    ["stats since, 31 February", `/portal-api/stats?since=${FEB31}`],
    ["deliveries since, a leap second", `/portal-api/deliveries?since=${LEAP}`],
    ["deliveries until, 31 February", `/portal-api/deliveries?until=${FEB31}`],
  ];
  it.each(queries)("%s is a 422 naming the parameter, never a 500", async (_name, path) => {
    const res = await rawApi("GET", path);
    expect(res.status).toBe(422);
    const param = new URL(path, "https://x").searchParams.keys().next().value!;
    expect(await errorsOf(res)).toEqual([`${param}: ${path.includes("60Z") ? leapWhy : feb31Why}`]);
  });

  it("every other impossible date or time is refused too, and real ones pass", async () => {
    for (const [time, why] of [
      ["2023-02-29T00:00:00Z", "must be a date that exists: February 2023 has 28 days"],
      ["2024-04-31T00:00:00Z", "must be a date that exists: April 2024 has 30 days"],
      ["2024-00-10T00:00:00Z", "must be a date that exists: there is no month 00"],
      ["2024-01-00T00:00:00Z", "must be a date that exists: January 2024 has 31 days"],
      ["2024-01-01T24:00:00Z", "must be an RFC 3339 date-time, like 2024-06-30T23:59:59Z"],
      ["2024-01-01", "must be an RFC 3339 date-time, like 2024-06-30T23:59:59Z"],
    ]) {
      const res = await rawApi("GET", `/portal-api/stats?since=${encodeURIComponent(time!)}`);
      expect(res.status, time).toBe(422);
      expect(await errorsOf(res)).toEqual([`since: ${why}`]);
    }
    for (const [since, until] of [
      ["2024-02-29T23:59:59.999999999Z", "2024-03-01T00:00:00Z"],
      ["2000-02-29T00:00:00+13:00", "2000-03-01T00:00:00-00:00"],
      ["2024-06-30t23:59:59z", "2024-07-01T02:00:00.5+02:00"],
    ]) {
      const res = await rawApi("GET", `/portal-api/stats?since=${encodeURIComponent(since!)}&until=${encodeURIComponent(until!)}`);
      expect(res.status, since).toBe(200);
      expect((await res.json<{ Since: string }>()).Since).toBe(new Date(Date.parse(since!)).toISOString());
    }
  });

  it("POST /webhooks/{id}/recover refuses a Since that does not exist and requeues nothing", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    for (const [since, why] of [
      [LEAP, leapWhy],
      [FEB31, feb31Why],
    ]) {
      const res = await rawApi("POST", `/portal-api/webhooks/${channel.ID}/recover`, JSON.stringify({ Since: since }));
      expect(res.status).toBe(422);
      expect(await errorsOf(res)).toEqual([`Since: ${why}`]);
    }
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("POST /deliveries/recover refuses a Since or Until that does not exist and requeues nothing", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    for (const [body, expected] of [
      [{ Since: LEAP, WebhookID: channel.ID }, `Since: ${leapWhy}`],
      [{ Since: "2024-01-01T00:00:00Z", Until: FEB31, WebhookID: channel.ID }, `Until: ${feb31Why}`],
      [{ Since: LEAP, WebhookID: channel.ID, DryRun: true }, `Since: ${leapWhy}`],
    ] as const) {
      const res = await rawApi("POST", "/portal-api/deliveries/recover", JSON.stringify(body));
      expect(res.status).toBe(422);
      expect(await errorsOf(res)).toEqual([expected]);
    }
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("a filter's time operand must exist too, and nothing is stored", async () => {
    const before = await count("channels");
    const res = await publicApi("POST", "/portal-api/webhooks", { ...valid, Filter: { "Message.CreatedAt": { $gt: FEB31 } } });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Filter.Message.CreatedAt: $gt needs a number or an RFC 3339 time"]);
    expect(await count("channels")).toBe(before);
    const ok = await publicApi("POST", "/portal-api/webhooks", { ...valid, Filter: { "Message.CreatedAt": { $gt: "2024-02-29T00:00:00Z" } } });
    expect(ok.status).toBe(201);
  });
});

describe("unknown query parameters", () => {
  it("GET /portal-api/deliveries?statuss=failed is a 422 naming it, not every delivery", async () => {
    const res = await rawApi("GET", "/portal-api/deliveries?statuss=failed");
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["statuss: unknown parameter"]);
  });

  it("names each unknown parameter, beside the declared ones' problems", async () => {
    const res = await rawApi("GET", "/portal-api/deliveries?status=nope&foo=1&bar=2&page=1");
    expect(res.status).toBe(422);
    const errors = await errorsOf(res);
    expect(errors).toHaveLength(3);
    expect(errors).toEqual(expect.arrayContaining(["bar: unknown parameter", "foo: unknown parameter", expect.stringMatching(/^status: must be one of /)]));
  });

  it("every route refuses a parameter it does not declare, before it reads or changes anything", async () => {
    const { channel, deliveryId, row } = await failedDelivery();
    const channels = await count("channels");
    const doc = await (await app.request("/portal-api/openapi.json", {}, env)).json<{ paths: Record<string, Record<string, { servers?: unknown }>> }>();
    // The admin API's routes: the intake (`POST /events`, on a server of its own) takes the portal's URL as configured.
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => !operation.servers)
        .map(([method]) => [method.toUpperCase(), path] as const),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const [method, path] of operations) {
      const concrete = `/portal-api${path.replace(/\{id\}/g, path.startsWith("/deliveries/") ? deliveryId : channel.ID).replace(/\{\w+\}/g, "x")}`;
      const res = await rawApi(method, `${concrete}?bogus_param=1`, method === "GET" || method === "DELETE" ? undefined : "{}");
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(await errorsOf(res), `${method} ${path}`).toContain("bogus_param: unknown parameter");
    }
    expect(await count("channels")).toBe(channels);
    expect(await delivery(deliveryId)).toEqual(row);
  });

  it("the declared parameters still work: page and per_page, and each route's filters", async () => {
    const { channel } = await failedDelivery();
    for (const path of [
      "/portal-api/webhooks?page=1&per_page=5",
      `/portal-api/webhooks/${channel.ID}/deliveries?status=failed&page=1&per_page=5`,
      `/portal-api/deliveries?status=failed&webhook_id=${channel.ID}&event_type=UserRegistered&since=2024-01-01T00:00:00Z&per_page=5`,
      "/portal-api/events?type=UserRegistered&page=2&per_page=1",
      `/portal-api/stats?webhook_id=${channel.ID}`,
    ]) {
      expect((await rawApi("GET", path)).status, path).toBe(200);
    }
  });
});

describe("numbers a double cannot hold", () => {
  it.each([
    [
      "1e400 in a filter",
      '{"Message.OrgID": {"$gt": 1e400}}',
      "Filter.Message.OrgID.$gt: must be a number a 64-bit double can hold (1e400 would be read as Infinity)",
    ],
    ["-1e400 in a filter", '{"Message.OrgID": -1e400}', "Filter.Message.OrgID: must be a number a 64-bit double can hold (-1e400 would be read as -Infinity)"],
    [
      "1e400 in $in",
      '{"Message": {"OrgID": {"$in": [7, 1E+400]}}}',
      "Filter.Message.OrgID.$in.1: must be a number a 64-bit double can hold (1E+400 would be read as Infinity)",
    ],
    [
      "1e-400 in a filter",
      '{"Message.OrgID": {"$lt": 1e-400}}',
      "Filter.Message.OrgID.$lt: must be a number a 64-bit double can hold (1e-400 would be read as 0)",
    ],
  ])("%s is refused at save (422 naming where), storing nothing", async (_name, filter, error) => {
    const before = await count("channels");
    const res = await rawApi(
      "POST",
      "/portal-api/webhooks",
      `{"Name": "CRM", "URL": "https://crm.example.com/hooks", "Events": ["UserRegistered"], "Filter": ${filter}}`,
    );
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual([error]);
    expect(await count("channels")).toBe(before);
  });

  it("PATCH and every other admin body refuse them too; the channel keeps its filter", async () => {
    const channel = await createChannel({ Filter: { "Message.OrgID": 7 } });
    const res = await rawApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Filter": {"Message.OrgID": 1e400}}');
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Filter.Message.OrgID: must be a number a 64-bit double can hold (1e400 would be read as Infinity)"]);
    const stored = await env.DB.prepare("select filter from channels where id = ?").bind(channel.ID).first<{ filter: string }>();
    expect(JSON.parse(stored!.filter)).toEqual({ "Message.OrgID": 7 });

    const timeout = await rawApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Timeout": 1e400}');
    expect(timeout.status).toBe(422);
    expect((await errorsOf(timeout))[0]).toMatch(/^Timeout: must be a number a 64-bit double can hold/);
    const preview = await rawApi("POST", "/portal-api/routing/preview", '{"Event": "UserRegistered", "Filter": {"Message.ID": {"$gte": -1e400}}}');
    expect(preview.status).toBe(422);
    expect(await errorsOf(preview)).toEqual(["Filter.Message.ID.$gte: must be a number a 64-bit double can hold (-1e400 would be read as -Infinity)"]);
    // Large numbers a double holds are fine, and so is any number inside a string.
    const ok = await rawApi("PATCH", `/portal-api/webhooks/${channel.ID}`, '{"Filter": {"Message.OrgID": {"$lt": 1.7e308}, "Message.Email": "1e400"}}');
    expect(ok.status).toBe(200);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { timeOrderedId } from "../src/db/ids";
import { templateRequests } from "../src/integrations/template-requests";
import goldenTemplates from "./fixtures/golden/templates.json";
import { ADMIN, api, attemptsOf, consume, createChannel, delivery, receivedAt, seed, target, uniqueUserRegistered } from "./helpers";
import { BASIC, CLIENT } from "./integration-targets";

/** The integrations servers (test/integration-targets.ts). */
const base = () => `http://127.0.0.1:${inject("integrationsPort")}`;
const fresh = () => crypto.randomUUID().slice(0, 8);

async function log(prefix: string): Promise<{ method: string; path: string; headers: Record<string, string>; body: string }[]> {
  return (await fetch(`${base()}/__log?prefix=${encodeURIComponent(prefix)}`)).json();
}

/** An event of any type and its delivery to the channel, written to D1 as intake writes them. */
async function deliveryOf(channelId: string, type: string, body: string) {
  const now = Date.now();
  const eventId = timeOrderedId(now);
  const deliveryId = `${eventId.slice(0, 23)}${timeOrderedId(now).slice(23)}`;
  await env.DB.batch([
    env.DB.prepare("insert into events (id, type, body, received_at) values (?, ?, ?, ?)").bind(eventId, type, body, now),
    env.DB.prepare(
      "insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', ?, ?, ?)",
    ).bind(deliveryId, eventId, channelId, type, now, now, now),
  ]);
  return { eventId, deliveryId };
}

async function readDelivery(id: string) {
  return (await api("GET", `/portal-api/deliveries/${id}`)).json() as Promise<any>;
}

describe("Transform", () => {
  it("sends the JSONata result as the body, signed over the bytes sent, with $eventId and $webhookId bound", async () => {
    const url = target();
    const channel = await createChannel({
      URL: url,
      Transform: { Body: `{"email": Message.Email, "name": Message.First & " " & Message.Last, "event": $eventId, "webhook": $webhookId}` },
    });
    const body = uniqueUserRegistered();
    const { eventId, deliveryId } = await deliveryOf(channel.ID, "UserRegistered", body);
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("succeeded");
    const [arrived] = await receivedAt(url);
    const message = JSON.parse(body).Message;
    expect(JSON.parse(arrived!.body)).toEqual({ email: message.Email, name: `${message.First} ${message.Last}`, event: eventId, webhook: channel.ID });
    // The signature covers the transformed bytes.
    const { Secret } = (await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json()) as { Secret: string };
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(atob(Secret.slice(6)), (c) => c.charCodeAt(0)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${eventId}.${arrived!.headers["webhook-timestamp"]}.${arrived!.body}`));
    expect(arrived!.headers["webhook-signature"]).toBe(`v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`);
    // The attempt shows what was sent.
    const read = await readDelivery(deliveryId);
    expect(read.Attempts[0].Request).toEqual({ URL: url, Body: arrived!.body });
  });

  it("ends the delivery cancelled, sending nothing, when the expression yields nothing", async () => {
    const url = target();
    const channel = await createChannel({ URL: url, Transform: { Body: `Message.OrgID = 999 ? {"org": Message.OrgID}` } });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    const row = await delivery(deliveryId);
    expect(row).toMatchObject({ status: "cancelled", last_error: "Transform: nothing to send", attempt_count: 0 });
    expect(await receivedAt(url)).toEqual([]);
  });

  it("fails the delivery at once when the expression throws on this event, with the reason", async () => {
    const channel = await createChannel({ URL: target(), Transform: { Body: `{"n": $number(Message.Email)}` } });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    const row = await delivery(deliveryId);
    expect(row.status).toBe("failed");
    expect(row.last_error).toMatch(/^Transform: at character \d+: Unable to cast value to a number: .* \(D3030\)$/);
  });

  it("bounds evaluation in depth and in steps, failing the delivery with the reason", async () => {
    const deep = await createChannel({ URL: target(), Transform: { Body: `($f := function($n) { 1 + $f($n + 1) }; $f(0))` } });
    const long = await createChannel({ URL: target(), Transform: { Body: `$count([1..5000].($map([1..100], function($v) { $v * 2 })))` } });
    const a = await deliveryOf(deep.ID, "UserRegistered", uniqueUserRegistered());
    const b = await deliveryOf(long.ID, "UserRegistered", uniqueUserRegistered());
    await consume([a.deliveryId, b.deliveryId]);
    expect(await delivery(a.deliveryId)).toMatchObject({ status: "failed", last_error: "Transform: expression nested deeper than 200 levels" });
    // Whichever bound comes first: the step budget, or the clock where it moves (a loaded machine).
    expect(await delivery(b.deliveryId)).toMatchObject({
      status: "failed",
      last_error: expect.stringMatching(/^Transform: evaluation (took more than 20000 steps|ran longer than 100 ms)$/),
    });
  });

  it("refuses a malformed expression, a chat Format with it, and one over 16 KiB, naming the field and where", async () => {
    const bad = await api("POST", "/portal-api/webhooks", { Name: "x", URL: target(), Events: ["UserRegistered"], Transform: { Body: `{"a": Message.}` } });
    expect(bad.status).toBe(422);
    expect((await bad.json()) as unknown).toEqual({ errors: [expect.stringMatching(/^Transform\.Body: at character \d+: /)] });
    const chat = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: target(),
      Events: ["UserRegistered"],
      Format: "slack",
      Transform: { Body: "Message" },
    });
    expect(chat.status).toBe(422);
    expect(((await chat.json()) as { errors: string[] }).errors[0]).toMatch(/^Transform: cannot be used with a chat Format/);
    const channel = await createChannel({ URL: target(), Transform: { Body: "Message" } });
    const patched = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Format: "teams" });
    expect(patched.status).toBe(422);
    const big = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: target(),
      Events: ["UserRegistered"],
      Transform: { Body: `"${"a".repeat(16 * 1024)}"` },
    });
    expect(big.status).toBe(422);
    expect(((await big.json()) as { errors: string[] }).errors[0]).toMatch(/^Transform\.Body: must be at most 16384 bytes/);
  });
});

describe("URL placeholders", () => {
  it("fills each placeholder with the event's value, encoded as one segment or query value", async () => {
    const key = fresh();
    const channel = await createChannel({ URL: `http://127.0.0.1:${inject("receiverPort")}/ok/${key}/{Message.Email}?org={Message.OrgID}` });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered({ Email: "a/b?c@example.com", OrgID: 7 }));
    await consume([deliveryId]);
    expect((await delivery(deliveryId)).status).toBe("succeeded");
    const [arrived] = await receivedAt(`http://127.0.0.1:${inject("receiverPort")}/ok/${key}/`);
    // A "/" in the value never adds a segment.
    expect(arrived!.path).toBe(`/ok/${key}/a%2Fb%3Fc%40example.com`);
    const read = await readDelivery(deliveryId);
    expect(read.Attempts[0].Request.URL).toBe(`http://127.0.0.1:${inject("receiverPort")}/ok/${key}/a%2Fb%3Fc%40example.com?org=7`);
  });

  it("fails the delivery at once when the event has no value at the path, naming it", async () => {
    const url = target();
    const channel = await createChannel({ URL: `${url}/{Message.Nickname}` });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "failed", last_error: "URL: the event has no value at Message.Nickname" });
    expect(await receivedAt(url)).toEqual([]);
  });

  it("refuses placeholders in the scheme, host or port, and malformed ones", async () => {
    for (const URL of [
      "https://{Message.Org}.example.com/x",
      "https://example.com:{Message.Port}/x",
      "https://example.com/{Message.}",
      "https://example.com/{Message.Email",
    ]) {
      const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL, Events: ["UserRegistered"] });
      expect(res.status, URL).toBe(422);
      expect(((await res.json()) as { errors: string[] }).errors[0], URL).toMatch(/^URL: /);
    }
  });
});

describe("Auth", () => {
  it("basic: sends the credentials, never returns the password, and masks it where the target echoes it", async () => {
    const channel = await createChannel({ URL: target("echo/400"), Auth: { Type: "basic", Username: BASIC.user, Password: BASIC.password } });
    expect((channel as any).Auth).toEqual({ Type: "basic", Username: BASIC.user, Password: "[set]" });
    const stored = await env.DB.prepare("select auth from channels where id = ?").bind(channel.ID).first<{ auth: string }>();
    expect(stored!.auth).not.toContain(BASIC.password);
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    const [arrived] = await receivedAt(channel.URL);
    expect(arrived!.headers.authorization).toBe(`Basic ${btoa(`${BASIC.user}:${BASIC.password}`)}`);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.response_body).toContain("authorization: Basic [redacted]");
    expect(attempt.response_body).not.toContain(btoa(`${BASIC.user}:${BASIC.password}`));
    // A change without the password keeps it.
    const patched = (await (await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Auth: { Type: "basic", Username: "other" } })).json()) as any;
    expect(patched.Auth).toEqual({ Type: "basic", Username: "other", Password: "[set]" });
    const switched = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Auth: { Type: "oauth2", TokenURL: `${base()}/token/x`, ClientID: "c" } });
    expect(switched.status).toBe(422);
    expect(await switched.json()).toEqual({ errors: ["Auth.ClientSecret: is required"] });
  });

  const oauth = (key: string, query = "", extra: Record<string, unknown> = {}) => ({
    URL: `${base()}/api/${key}`,
    Auth: { Type: "oauth2", TokenURL: `${base()}/token/${key}${query}`, ClientID: CLIENT.id, ClientSecret: CLIENT.secret, Scope: "contacts.write", ...extra },
  });
  const tokenRequests = async (key: string) => (await log(`/token/${key}`)).length;

  it("oauth2: one token for the deliveries that run at once, kept across batches until it expires", async () => {
    const key = fresh();
    const channel = await createChannel(oauth(key, "?expires_in=3600"));
    const first = await Promise.all([1, 2, 3].map(() => deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered())));
    await consume(first.map((d) => d.deliveryId));
    const second = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([second.deliveryId]);
    for (const d of [...first, second]) expect((await delivery(d.deliveryId)).status).toBe("succeeded");
    expect(await tokenRequests(key)).toBe(1);
    const [tokenRequest] = await log(`/token/${key}`);
    // RFC 6749 §2.3.1: the client authenticates by HTTP Basic, id and secret form-encoded.
    expect(tokenRequest!.headers.authorization).toBe(`Basic ${btoa(`${CLIENT.id}:${encodeURIComponent(CLIENT.secret)}`)}`);
    expect(new URLSearchParams(tokenRequest!.body).get("scope")).toBe("contacts.write");
    expect((await log(`/api/${key}`)).map((r) => r.headers.authorization)).toEqual(Array(4).fill(`Bearer tok-${key}-1`));
  });

  it("oauth2: asks again once the token has expired, and with form fields when ClientAuth is body", async () => {
    const key = fresh();
    const channel = await createChannel(oauth(key, "?expires_in=0", { ClientAuth: "body" }));
    for (let i = 0; i < 2; i++) {
      const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
      await consume([deliveryId]);
      expect((await delivery(deliveryId)).status).toBe("succeeded");
    }
    const requests = await log(`/token/${key}`);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toMatchObject({
      grant_type: "client_credentials",
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
    });
  });

  it("oauth2: a 401 from the target fetches a new token once and sends again", async () => {
    const key = fresh();
    const channel = await createChannel(oauth(key, "?expires_in=3600"));
    const a = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([a.deliveryId]);
    await fetch(`${base()}/__revoke?key=${key}`);
    const b = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([b.deliveryId]);
    expect(await delivery(b.deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1 });
    expect(await tokenRequests(key)).toBe(2);
    expect((await log(`/api/${key}`)).map((r) => r.headers.authorization)).toEqual([`Bearer tok-${key}-1`, `Bearer tok-${key}-1`, `Bearer tok-${key}-2`]);
  });

  it("oauth2: a token endpoint that refuses is a failed attempt on the retry schedule, its answer in Error with the secret masked", async () => {
    const key = fresh();
    const channel = await createChannel(oauth(key, "?mode=refuse"));
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    const result = await consume([deliveryId]);
    expect(result.retried).toHaveLength(1);
    const row = await delivery(deliveryId);
    expect(row.status).toBe("retrying");
    expect(row.last_error).toMatch(/^Auth: the token endpoint answered 401: /);
    expect(row.last_error).toContain("[redacted]");
    expect(row.last_error).not.toContain(CLIENT.secret);
    expect(await log(`/api/${key}`)).toEqual([]);
  });

  it("oauth2: a token endpoint that does not answer within the Timeout is a failed attempt on the retry schedule", async () => {
    const key = fresh();
    const channel = await createChannel({ ...oauth(key, "?mode=hang"), Timeout: 1 });
    const { deliveryId } = await deliveryOf(channel.ID, "UserRegistered", uniqueUserRegistered());
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", last_error: "Auth: the token endpoint did not answer within 1s" });
  });

  it("oauth2: the secret is never returned, and the TokenURL is guarded like the URL", async () => {
    const key = fresh();
    const channel = (await createChannel(oauth(key))) as any;
    expect(channel.Auth).toMatchObject({ Type: "oauth2", ClientID: CLIENT.id, ClientSecret: "[set]" });
    const listed = (await (await api("GET", "/portal-api/webhooks?per_page=100")).text()) as string;
    expect(listed).not.toContain(CLIENT.secret);
    const refused = await api(
      "POST",
      "/portal-api/webhooks",
      {
        Name: "x",
        URL: "https://crm.example.com/x",
        Events: ["UserRegistered"],
        Auth: { Type: "oauth2", TokenURL: "http://10.0.0.1/token", ClientID: "c", ClientSecret: "s" },
      },
      ADMIN,
    );
    // The tests allow private targets; the form is still checked.
    expect([201, 422]).toContain(refused.status);
    const noScheme = await api("POST", "/portal-api/webhooks", {
      Name: "x",
      URL: target(),
      Events: ["UserRegistered"],
      Auth: { Type: "oauth2", TokenURL: "ftp://x.example.com/t", ClientID: "c", ClientSecret: "s" },
    });
    expect(noScheme.status).toBe(422);
    expect(((await noScheme.json()) as { errors: string[] }).errors[0]).toMatch(/^Auth\.TokenURL: /);
  });
});

describe("GET /portal-api/templates", () => {
  it("lists the six templates with every field the contract names", async () => {
    const res = await api("GET", "/portal-api/templates");
    expect(res.status).toBe(200);
    const list = (await res.json()) as any[];
    expect(list.map((t) => t.ID)).toEqual(["lago", "moesif", "hubspot", "salesforce", "jira-service-management", "servicenow"]);
    for (const t of list) expect(Object.keys(t).sort()).toEqual(["Auth", "Description", "Events", "Headers", "ID", "Method", "Name", "Transform", "URL"]);
  });

  it("makes in the Workers runtime exactly the golden requests (JSONata interprets: no eval, no new Function)", async () => {
    expect(await templateRequests()).toEqual(goldenTemplates);
  });

  it("each template, created as a channel against a target that checks its API, takes the seed's sample events end to end", async () => {
    const templates = (await (await api("GET", "/portal-api/templates")).json()) as any[];
    const samples = new Map(seed.map((s) => [s.type, s.body]));
    for (const t of templates) {
      const key = fresh();
      const auth =
        t.Auth?.Type === "basic"
          ? { Type: "basic", Username: BASIC.user, Password: BASIC.password }
          : t.Auth?.Type === "oauth2"
            ? { Type: "oauth2", TokenURL: `${base()}/token/${key}?expires_in=3600`, ClientID: CLIENT.id, ClientSecret: CLIENT.secret }
            : null;
      const headerValues: Record<string, string> = { Authorization: "Bearer pat-123", "X-Moesif-Application-Id": "moesif-app-1" };
      const channel = await createChannel({
        Name: t.Name,
        URL: t.URL.replace(/^https:\/\/[^/]+/, `${base()}/${t.ID}/${key}`),
        Method: t.Method,
        Events: t.Events,
        Transform: t.Transform,
        Auth: auth,
        Headers: t.Headers.map((Name: string) => ({ Name, Value: headerValues[Name] })),
      });
      const sent = [];
      for (const type of t.Events) {
        const body = samples.get(type);
        if (body) sent.push({ type, ...(await deliveryOf(channel.ID, type, body)) });
      }
      expect(sent.length, t.ID).toBeGreaterThan(0);
      await consume(sent.map((d) => d.deliveryId));
      for (const d of sent) {
        const row = await delivery(d.deliveryId);
        expect({ template: t.ID, type: d.type, status: row.status, error: row.last_error }).toEqual({
          template: t.ID,
          type: d.type,
          status: "succeeded",
          error: null,
        });
      }
      expect((await log(`/${t.ID}/${key}/`)).length).toBe(sent.length);
    }
  });
});

describe("POST /portal-api/integrations/preview", () => {
  it("shows the request each subscribed type would produce, secrets masked, and its errors", async () => {
    const res = await api("POST", "/portal-api/integrations/preview", {
      URL: "https://api.example.com/contacts/{Message.Email}",
      Events: ["UserRegistered", "ApplicationRegistered"],
      Transform: { Body: `{"email": Message.Email}` },
      Auth: { Type: "basic" },
      HeaderNames: ["X-Api-Key"],
    });
    expect(res.status).toBe(200);
    const [user, app] = (await res.json()) as any[];
    expect(user.Event).toBe("UserRegistered");
    expect(user.URL).toMatch(/^https:\/\/api\.example\.com\/contacts\/[^/]+$/);
    expect(JSON.parse(user.Body)).toHaveProperty("email");
    expect(user.Headers).toContainEqual(["X-Api-Key", "[redacted]"]);
    expect(user.Headers).toContainEqual(["Authorization", "Basic [redacted]"]);
    expect(user.Error).toBeNull();
    expect(app.Error).toBe("URL: the event has no value at Message.Email");
  });
});

describe("Test Connection with URL placeholders", () => {
  it("fills them from the sample payload of the channel's first event type", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: `${url}/{Message.ID}?email={Message.Email}`, Events: ["UserRegistered"] });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test`);
    expect(await res.json()).toMatchObject({ Success: true, StatusCode: 200 });
    const [head] = await receivedAt(url);
    expect(head).toMatchObject({ method: "HEAD", path: `${new URL(url).pathname}/29` });
  });
});

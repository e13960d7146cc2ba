/** Target auth: HTTP Basic, and OAuth 2 client credentials with its token cache; the secrets never returned, masked where echoed. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, api, attemptsOf, consume, createChannel, delivery, receivedAt, target, uniqueUserRegistered } from "../helpers";
import { BASIC, CLIENT } from "../integration-targets";
import { base, deliveryOf, fresh, log } from "./harness";

describe("Auth", () => {
  it("names an unknown or missing Type once, at Auth.Type", async () => {
    const channel = await createChannel();
    for (const auth of [{ Type: "digest" }, { Username: "u" }]) {
      const res = await api("PATCH", `/portal-api/webhooks/${channel.ID}`, { Auth: auth });
      expect(res.status).toBe(422);
      expect((await res.json<{ errors: string[] }>()).errors).toEqual(["Auth.Type: must be basic or oauth2"]);
    }
  });

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

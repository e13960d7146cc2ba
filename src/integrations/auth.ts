import { secretMasker } from "../security/mask";
import type { SecretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";

/**
 * A channel's `Auth`: how it proves itself to its target.
 *
 * - `basic`: `Authorization: Basic base64(Username ":" Password)` (RFC 7617).
 * - `oauth2`: the client credentials grant (RFC 6749 §4.4). A token is requested from
 *   `TokenURL` with `grant_type=client_credentials` (and `scope`, `audience` when given),
 *   the client authenticating by HTTP Basic (RFC 6749 §2.3.1, the default) or by the
 *   `client_id`/`client_secret` form fields (`ClientAuth: "body"`, for servers that want
 *   them). The answer's `access_token` is sent as `Authorization: Bearer …` (RFC 6750 §2.1)
 *   and kept in the isolate until shortly before `expires_in` (seconds) runs out, shared by
 *   the deliveries that run at once, and fetched again once when a target answers 401.
 *
 * Stored as JSON in `channels.auth` with the password and client secret encrypted
 * (src/security/secret-box.ts); the admin API never returns them, only `"[set]"`.
 */

export type AuthInput =
  | { Type: "basic"; Username: string; Password?: string }
  | {
      Type: "oauth2";
      TokenURL: string;
      ClientID: string;
      ClientSecret?: string;
      Scope?: string | null;
      Audience?: string | null;
      ClientAuth?: "basic" | "body";
    };

/** As stored: the same fields, the secret encrypted (`enc1:…`). */
export type StoredAuth =
  | { Type: "basic"; Username: string; Password: string }
  | {
      Type: "oauth2";
      TokenURL: string;
      ClientID: string;
      ClientSecret: string;
      Scope?: string | null;
      Audience?: string | null;
      ClientAuth?: "basic" | "body";
    };

/** What the admin API shows in place of a secret that is set. */
export const SECRET_SET = "[set]";

const secretOf = (auth: { Type: string; Password?: string; ClientSecret?: string }) => (auth.Type === "basic" ? auth.Password : auth.ClientSecret);

/**
 * The stored form of an `Auth` input: its secret encrypted. A secret left out (or given
 * as `"[set]"`, as the API showed it) keeps the one stored for the same type, so an admin
 * can change the user name without typing the password again. Returns why it cannot be
 * saved, if it cannot.
 */
export async function sealAuth(
  input: AuthInput | null,
  stored: string | null,
  box: SecretBox,
): Promise<{ ok: true; value: string | null } | { ok: false; field: string; message: string }> {
  if (input === null) return { ok: true, value: null };
  const previous = stored ? (JSON.parse(stored) as StoredAuth) : null;
  const given = secretOf(input);
  const field = input.Type === "basic" ? "Password" : "ClientSecret";
  let secret: string;
  if (given !== undefined && given !== SECRET_SET) secret = await box.encrypt(given);
  else if (previous?.Type === input.Type) secret = secretOf(previous)!;
  else return { ok: false, field: `Auth.${field}`, message: "is required" };
  const value: StoredAuth = input.Type === "basic" ? { ...input, Password: secret } : { ...input, ClientSecret: secret };
  return { ok: true, value: JSON.stringify(value) };
}

/** The stored auth as the admin API shows it: the secret as `"[set]"`. */
export function authView(stored: string | null) {
  if (!stored) return null;
  const auth = JSON.parse(stored) as StoredAuth;
  return auth.Type === "basic" ? { ...auth, Password: SECRET_SET } : { ...auth, ClientSecret: SECRET_SET };
}

/** The auth with its secret decrypted: part of a channel's credentials, decrypted once per isolate. */
export type OpenAuth = StoredAuth & { secret: string };

export async function openAuth(stored: string | null, box: SecretBox): Promise<OpenAuth | null> {
  if (!stored) return null;
  const auth = JSON.parse(stored) as StoredAuth;
  return { ...auth, secret: await box.decrypt(secretOf(auth)!) };
}

/** What the masker must hide of an auth: the secret, and the Basic value that carries it. */
export function authSecrets(auth: OpenAuth | null): string[] {
  if (!auth) return [];
  return auth.Type === "basic"
    ? [auth.secret, basicValue(auth.Username, auth.secret)]
    : [auth.secret, basicValue(formEncode(auth.ClientID), formEncode(auth.secret))];
}

const basicValue = (user: string, password: string) => btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for the client id and secret in Basic. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/** One header that authenticates a request, and the masker for what it carries. */
export interface AuthHeader {
  value: string;
  /** The oauth2 token it carries, to ask for a new one if the target answers 401. */
  token?: string;
  mask: (text: string) => string;
}

export type AuthFault = { ok: false; message: string };

/** The `Authorization` value for a request; for oauth2, a token from the cache or the token endpoint. */
export async function authorization(
  channelId: string,
  auth: OpenAuth,
  timeoutMs: number,
  allowPrivate: boolean,
  replacing?: string,
): Promise<({ ok: true } & AuthHeader) | AuthFault> {
  if (auth.Type === "basic") return { ok: true, value: `Basic ${basicValue(auth.Username, auth.secret)}`, mask: identity };
  const token = await tokenFor(channelId, auth, timeoutMs, allowPrivate, replacing);
  if (!token.ok) return token;
  return { ok: true, value: `Bearer ${token.accessToken}`, token: token.accessToken, mask: token.mask };
}

const identity = (text: string) => text;

interface Token {
  ok: true;
  accessToken: string;
  /** Unix ms after which it is no longer used. */
  refreshAt: number;
  mask: (text: string) => string;
}

/**
 * Tokens per isolate, keyed by the channel and what the token was asked with (a changed
 * secret or scope asks again). A request in flight is shared: deliveries that run at once
 * wait for the same answer rather than each asking the token endpoint.
 */
const tokens = new Map<string, { pending: Promise<Token | AuthFault>; token?: Token }>();
const MAX_TOKENS = 1000;

/** Refresh this long before `expires_in` runs out: a tenth of its life, at most a minute. */
export const refreshMargin = (lifetimeMs: number) => Math.min(60_000, lifetimeMs / 10);
/** When the token endpoint does not say (`expires_in` is RECOMMENDED, RFC 6749 §5.1): five minutes. */
const DEFAULT_LIFETIME_S = 300;

async function tokenFor(
  channelId: string,
  auth: OpenAuth & { Type: "oauth2" },
  timeoutMs: number,
  allowPrivate: boolean,
  replacing?: string,
): Promise<Token | AuthFault> {
  const key = JSON.stringify([channelId, auth.TokenURL, auth.ClientID, auth.secret, auth.Scope ?? null, auth.Audience ?? null, auth.ClientAuth ?? "basic"]);
  const cached = tokens.get(key);
  const usable = cached && (!cached.token || (cached.token.accessToken !== replacing && cached.token.refreshAt > Date.now()));
  if (usable) return cached.pending;
  if (tokens.size >= MAX_TOKENS) tokens.clear();
  const entry: { pending: Promise<Token | AuthFault>; token?: Token } = { pending: requestToken(auth, timeoutMs, allowPrivate) };
  tokens.set(key, entry);
  const result = await entry.pending;
  // A refusal is not kept: the next delivery asks again.
  if (result.ok) entry.token = result;
  else if (tokens.get(key) === entry) tokens.delete(key);
  return result;
}

/** Forgets every cached token (tests). */
export const forgetTokens = () => tokens.clear();

/** RFC 6749 §4.4.2 request, §5.1 answer, §5.2 error. Never throws. */
async function requestToken(auth: OpenAuth & { Type: "oauth2" }, timeoutMs: number, allowPrivate: boolean): Promise<Token | AuthFault> {
  const problem = targetUrlProblem(auth.TokenURL, allowPrivate);
  if (problem) return { ok: false, message: `Auth: TokenURL ${problem}` };
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (auth.Scope) form.set("scope", auth.Scope);
  if (auth.Audience) form.set("audience", auth.Audience);
  const headers: [string, string][] = [
    ["Content-Type", "application/x-www-form-urlencoded"],
    ["Accept", "application/json"],
  ];
  if (auth.ClientAuth === "body") {
    form.set("client_id", auth.ClientID);
    form.set("client_secret", auth.secret);
  } else {
    headers.push(["Authorization", `Basic ${basicValue(formEncode(auth.ClientID), formEncode(auth.secret))}`]);
  }
  const mask = secretMasker(authSecrets(auth));
  const started = Date.now();
  let res: Response;
  let text: string;
  try {
    res = await fetch(auth.TokenURL, { method: "POST", headers, body: form.toString(), redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      ok: false,
      message: timedOut
        ? `Auth: the token endpoint did not answer within ${timeoutMs / 1000}s`
        : `Auth: the token endpoint could not be reached (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  const excerpt = mask(text.slice(0, 512));
  if (res.status < 200 || res.status >= 300) return { ok: false, message: `Auth: the token endpoint answered ${res.status}: ${excerpt}` };
  let answer: { access_token?: unknown; expires_in?: unknown };
  try {
    answer = JSON.parse(text);
  } catch {
    return { ok: false, message: `Auth: the token endpoint's answer is not JSON: ${excerpt}` };
  }
  if (typeof answer.access_token !== "string" || !answer.access_token)
    return { ok: false, message: `Auth: the token endpoint's answer has no access_token: ${excerpt}` };
  const seconds = Number(answer.expires_in ?? DEFAULT_LIFETIME_S);
  const lifetimeMs = (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_LIFETIME_S) * 1000;
  return {
    ok: true,
    accessToken: answer.access_token,
    refreshAt: started + lifetimeMs - refreshMargin(lifetimeMs),
    mask: secretMasker([answer.access_token]),
  };
}

import { errorText } from "../core/log";
import { isReservedHeader, USER_AGENT } from "../http/headers";
import { type CallResult, call, RESPONSE_SNIPPET_BYTES } from "../http/outbound";
import { type AuthHeader, authorization, authSecrets, type OpenAuth, openAuth } from "../integrations/auth";
import { runTransform } from "../integrations/transform";
import { expandUrl, hasPlaceholders } from "../integrations/url-fields";
import { type Format, renderBody } from "../routing/formats";
import { secretMasker } from "../security/mask";
import type { SecretBox } from "../security/secret-box";
import { previousSecretLive, signatureHeader } from "./sign";

/**
 * A channel's credentials, decrypted once per isolate rather than once per batch: at high
 * fan-out each batch holds deliveries of many channels. Keyed by what was decrypted (the
 * stored ciphertexts, and whether the previous secret still signs), so a changed secret
 * or header is decrypted afresh; a failed decryption is not kept.
 */
export function credentialsFor(channel: Parameters<typeof decryptCredentials>[0] & { id: string }, box: SecretBox, now: number): Promise<ChannelCredentials> {
  const rotating = previousSecretLive(channel, now);
  const key = JSON.stringify([channel.id, channel.secret, rotating && channel.previousSecret, channel.headers, channel.auth ?? null]);
  let credentials = decrypted.get(key);
  if (!credentials) {
    if (decrypted.size >= MAX_CACHED_CHANNELS) decrypted.clear();
    credentials = decryptCredentials(channel, box, now);
    credentials.catch(() => decrypted.delete(key));
    decrypted.set(key, credentials);
  }
  return credentials;
}

const decrypted = new Map<string, Promise<ChannelCredentials>>();
const MAX_CACHED_CHANNELS = 1000;

/** What a channel contributes to each request: its custom headers and signing secrets, decrypted. */
export interface ChannelCredentials {
  headers: [string, string][];
  secrets: string[];
  /** Masks those values where a target echoed them back (built once per channel). */
  mask: (text: string) => string;
  /** Its `Auth`, the secret decrypted; null without one. */
  auth: OpenAuth | null;
}

export async function decryptCredentials(
  channel: {
    secret: string;
    previousSecret: string | null;
    previousSecretExpiresAt: number | null;
    headers: { name: string; value: string }[];
    auth?: string | null;
  },
  box: SecretBox,
  now: number,
): Promise<ChannelCredentials> {
  // During a rotation the previous secret signs too, until it expires.
  const rotating = previousSecretLive(channel, now);
  // A reserved name stored before it was reserved (User-Agent, Expect, ...) is not sent.
  const headers = channel.headers.filter((h) => !isReservedHeader(h.name));
  const [secrets, values, auth] = await Promise.all([
    Promise.all([box.decrypt(channel.secret), ...(rotating ? [box.decrypt(channel.previousSecret!)] : [])]),
    Promise.all(headers.map((h) => box.decrypt(h.value))),
    openAuth(channel.auth ?? null, box),
  ]);
  // Everything a target must not see echoed into the attempt log: header values, signing secrets, auth secrets.
  const mask = secretMasker([...values, ...secrets.flatMap((s) => [s, s.replace(/^whsec_/, "")]), ...authSecrets(auth)]);
  return { secrets, headers: headers.map((h, i) => [h.name, values[i]!]), mask, auth };
}

/**
 * The delivery request: the stored body byte for byte, the channel's headers, and the
 * Standard Webhooks headers. webhook-id is the event's id, the same on every retry, so
 * receivers can drop duplicates.
 */
export async function signedRequest(method: string, eventId: string, body: string, credentials: ChannelCredentials, authHeader?: string): Promise<RequestInit> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    method,
    body,
    headers: [
      ...credentials.headers,
      ...(authHeader ? [["Authorization", authHeader] as [string, string]] : []),
      ["Content-Type", "application/json"],
      ["User-Agent", USER_AGENT],
      ["webhook-id", eventId],
      ["webhook-timestamp", String(timestamp)],
      ["webhook-signature", await signatureHeader(credentials.secrets, eventId, timestamp, body)],
    ],
  };
}

/**
 * Why a delivery's request could not be built. `data`: the event itself cannot be sent
 * this way (a payload a chat format cannot render, a transform that fails on it, a URL
 * field it lacks), so retrying cannot help; `config`: the channel or the deployment is at
 * fault (secrets that do not decrypt, a token endpoint that refuses), which a fix can
 * cure, so the retry schedule runs; `nothing`: the channel's Transform yields nothing for
 * this event, so nothing is sent and the delivery ends `cancelled`.
 */
export interface BuildFault {
  ok: false;
  error: "data" | "config" | "nothing";
  message: string;
  durationMs: 0;
}

/** What one attempt came to: the target's answer, a failed call, or a request never built. */
export type AttemptResult = CallResult | BuildFault;

export const buildFault = (error: BuildFault["error"], message: string): BuildFault => ({ ok: false, error, message, durationMs: 0 });

export const isBuildFault = (result: AttemptResult): result is BuildFault =>
  !result.ok && (result.error === "data" || result.error === "config" || result.error === "nothing");

/** Why a delivery ends `cancelled` when its Transform yields nothing for the event. */
export const NOTHING_TO_SEND = "Transform: nothing to send";

/** A request ready to go: where, what, how to mask what comes back, and what to show of it. */
export interface BuiltRequest {
  ok: true;
  url: string;
  request: RequestInit;
  mask: (text: string) => string;
  /** What was sent, for the attempt log, when the channel rewrites it (a Transform, URL placeholders). */
  sent?: { url: string; body: string };
  /** The same request with a fresh oauth2 token, for a 401 (undefined without oauth2). */
  refresh?: () => Promise<BuiltRequest | BuildFault>;
}

/** How the request may be built: `preview` builds it without asking a token endpoint. */
export interface BuildOptions {
  allowPrivateTargets: boolean;
  preview?: boolean;
}

/**
 * The whole request for one event to one channel: its body in the channel's format, its
 * headers, and the signature over the bytes sent. Never throws: whatever goes wrong is a
 * `BuildFault`, so one unsendable delivery is an attempt that failed, never a crashed batch.
 */
export async function buildRequest(
  channel: Parameters<typeof credentialsFor>[0] & {
    id: string;
    url: string;
    method: string;
    format: Format;
    timeoutSeconds: number;
    transform?: string | null;
    auth?: string | null;
  },
  event: { webhookId: string; body: string },
  box: SecretBox,
  portalUrl: string | undefined,
  now: number,
  options: BuildOptions = { allowPrivateTargets: false },
): Promise<BuiltRequest | BuildFault> {
  let credentials: ChannelCredentials;
  try {
    credentials = await credentialsFor(channel, box, now);
  } catch (err) {
    return buildFault("config", `the webhook's secrets could not be decrypted (is ENCRYPTION_KEY the key they were stored with?): ${errorText(err)}`);
  }
  let body: string;
  let url = channel.url;
  // A channel without a Transform or placeholders pays nothing here: the stored bytes, the stored URL.
  const rewrites = Boolean(channel.transform) || hasPlaceholders(channel.url);
  if (channel.transform) {
    const result = await runTransform(channel.id, channel.transform, event.body, { eventId: event.webhookId, webhookId: channel.id, portalUrl });
    if (!result.ok) return buildFault("data", `Transform: ${result.message}`);
    if (result.body === null) return buildFault("nothing", NOTHING_TO_SEND);
    body = result.body;
  } else {
    try {
      // A chat format rewrites the body; the signature is over the bytes actually sent.
      body = renderBody(channel.format, event.body, portalUrl);
    } catch (err) {
      return buildFault("data", `Format ${channel.format}: this event cannot be rendered: ${errorText(err)}`);
    }
  }
  if (hasPlaceholders(channel.url)) {
    const expanded = expandUrl(channel.url, JSON.parse(event.body));
    if (!expanded.ok) return buildFault("data", expanded.message);
    url = expanded.url;
  }
  const sign = async (replacing?: string): Promise<BuiltRequest | BuildFault> => {
    let auth: ({ ok: true } & AuthHeader) | undefined;
    if (credentials.auth) {
      if (options.preview) auth = { ok: true, value: credentials.auth.Type === "basic" ? "Basic [set]" : "Bearer [token]", mask: (t) => t };
      else {
        const got = await authorization(channel.id, credentials.auth, channel.timeoutSeconds * 1000, options.allowPrivateTargets, replacing);
        if (!got.ok) return buildFault("config", got.message);
        auth = got;
      }
    }
    try {
      const request = await signedRequest(channel.method, event.webhookId, body, credentials, auth?.value);
      const mask = auth?.token ? (text: string) => auth.mask(credentials.mask(text)) : credentials.mask;
      return {
        ok: true,
        url,
        request,
        mask,
        // Written from the event and the URL alone (no secret is bound in a Transform): nothing to mask.
        sent: rewrites ? { url, body: excerpt(body) } : undefined,
        refresh: credentials.auth?.Type === "oauth2" && auth?.token ? () => sign(auth.token) : undefined,
      };
    } catch (err) {
      return buildFault("config", `the request could not be signed: ${errorText(err)}`);
    }
  };
  return sign();
}

/** The first KiB of a body (UTF-8), as an attempt keeps it. */
const excerpt = (body: string) =>
  body.length <= RESPONSE_SNIPPET_BYTES / 4
    ? body
    : new TextDecoder().decode(new TextEncoder().encode(body).subarray(0, RESPONSE_SNIPPET_BYTES)).replace(/\uFFFD$/, "");

/**
 * Sends a built request; on a `401` from a target reached with an oauth2 token, asks for
 * a new token once and sends again (the token may have been revoked or rotated early).
 * Returns the answer and the request that got it.
 */
export async function callTarget(built: BuiltRequest, timeoutMs: number): Promise<{ result: AttemptResult; built: BuiltRequest }> {
  const result = await call(built.url, built.request, timeoutMs);
  if (!(result.ok && result.status === 401 && built.refresh)) return { result, built };
  const again = await built.refresh();
  if (!again.ok) return { result: again, built };
  return { result: await call(again.url, again.request, timeoutMs), built: again };
}

import pkg from "../../package.json";
import { isReservedHeader } from "../channels/schemas";
import { previousSecretLive } from "../channels/secrets";
import type { CallResult } from "../http/outbound";
import { errorText } from "../log";
import { type Format, renderBody } from "../routing/formats";
import { secretMasker } from "../security/mask";
import type { SecretBox } from "../security/secret-box";
import { signatureHeader } from "./sign";

export const USER_AGENT = `${pkg.name}/${pkg.version}`;

/**
 * A channel's credentials, decrypted once per isolate rather than once per batch: at high
 * fan-out each batch holds deliveries of many channels. Keyed by what was decrypted (the
 * stored ciphertexts, and whether the previous secret still signs), so a changed secret
 * or header is decrypted afresh; a failed decryption is not kept.
 */
export function credentialsFor(channel: Parameters<typeof decryptCredentials>[0] & { id: string }, box: SecretBox, now: number): Promise<ChannelCredentials> {
  const rotating = previousSecretLive(channel, now);
  const key = JSON.stringify([channel.id, channel.secret, rotating && channel.previousSecret, channel.headers]);
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
}

export async function decryptCredentials(
  channel: {
    secret: string;
    previousSecret: string | null;
    previousSecretExpiresAt: number | null;
    headers: { name: string; value: string }[];
  },
  box: SecretBox,
  now: number,
): Promise<ChannelCredentials> {
  // During a rotation the previous secret signs too, until it expires.
  const rotating = previousSecretLive(channel, now);
  // A reserved name stored before it was reserved (User-Agent, Expect, ...) is not sent.
  const headers = channel.headers.filter((h) => !isReservedHeader(h.name));
  const [secrets, values] = await Promise.all([
    Promise.all([box.decrypt(channel.secret), ...(rotating ? [box.decrypt(channel.previousSecret!)] : [])]),
    Promise.all(headers.map((h) => box.decrypt(h.value))),
  ]);
  // Everything a target must not see echoed into the attempt log: header values and signing secrets.
  const mask = secretMasker([...values, ...secrets.flatMap((s) => [s, s.replace(/^whsec_/, "")])]);
  return { secrets, headers: headers.map((h, i) => [h.name, values[i]!]), mask };
}

/**
 * The delivery request: the stored body byte for byte, the channel's headers, and the
 * Standard Webhooks headers. webhook-id is the event's id, the same on every retry, so
 * receivers can drop duplicates.
 */
export async function signedRequest(method: string, eventId: string, body: string, credentials: ChannelCredentials): Promise<RequestInit> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    method,
    body,
    headers: [
      ...credentials.headers,
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
 * this way (a payload a chat format cannot render), so retrying cannot help; `config`: the
 * channel or the deployment is at fault (secrets that do not decrypt), which a fix can
 * cure, so the retry schedule runs.
 */
export interface BuildFault {
  ok: false;
  error: "data" | "config";
  message: string;
  durationMs: 0;
}

/** What one attempt came to: the target's answer, a failed call, or a request never built. */
export type AttemptResult = CallResult | BuildFault;

export const buildFault = (error: BuildFault["error"], message: string): BuildFault => ({ ok: false, error, message, durationMs: 0 });

export const isBuildFault = (result: AttemptResult): result is BuildFault => !result.ok && (result.error === "data" || result.error === "config");

/**
 * The whole request for one event to one channel: its body in the channel's format, its
 * headers, and the signature over the bytes sent. Never throws: whatever goes wrong is a
 * `BuildFault`, so one unsendable delivery is an attempt that failed, never a crashed batch.
 */
export async function buildRequest(
  channel: Parameters<typeof credentialsFor>[0] & { id: string; method: string; format: Format },
  event: { webhookId: string; body: string },
  box: SecretBox,
  portalUrl: string | undefined,
  now: number,
): Promise<{ ok: true; request: RequestInit; mask: (text: string) => string } | BuildFault> {
  let credentials: ChannelCredentials;
  try {
    credentials = await credentialsFor(channel, box, now);
  } catch (err) {
    return buildFault("config", `the webhook's secrets could not be decrypted (is ENCRYPTION_KEY the key they were stored with?): ${errorText(err)}`);
  }
  let body: string;
  try {
    // A chat format rewrites the body; the signature is over the bytes actually sent.
    body = renderBody(channel.format, event.body, portalUrl);
  } catch (err) {
    return buildFault("data", `Format ${channel.format}: this event cannot be rendered: ${errorText(err)}`);
  }
  try {
    return { ok: true, request: await signedRequest(channel.method, event.webhookId, body, credentials), mask: credentials.mask };
  } catch (err) {
    return buildFault("config", `the request could not be signed: ${errorText(err)}`);
  }
}

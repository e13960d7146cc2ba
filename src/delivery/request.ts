import pkg from "../../package.json";
import type { SecretBox } from "../security/secret-box";
import { signatureHeader } from "./sign";

export const USER_AGENT = `${pkg.name}/${pkg.version}`;

/** What a channel contributes to each request: its custom headers and signing secrets, decrypted. */
export interface ChannelCredentials {
  headers: [string, string][];
  secrets: string[];
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
  const rotating = channel.previousSecret && (channel.previousSecretExpiresAt ?? 0) > now;
  const [secrets, values] = await Promise.all([
    Promise.all([box.decrypt(channel.secret), ...(rotating ? [box.decrypt(channel.previousSecret!)] : [])]),
    Promise.all(channel.headers.map((h) => box.decrypt(h.value))),
  ]);
  return { secrets, headers: channel.headers.map((h, i) => [h.name, values[i]!]) };
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

import { base64ToBytes, bytesToBase64 } from "../security/encoding";

/**
 * Standard Webhooks signing: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed
 * with the decoded bytes of a `whsec_` secret. Several secrets (during a rotation) give
 * several space-separated signatures.
 */
export async function signatureHeader(secrets: string[], messageId: string, timestamp: number, body: string): Promise<string> {
  const content = encoder.encode(`${messageId}.${timestamp}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), content);
      return `v1,${bytesToBase64(new Uint8Array(mac))}`;
    }),
  );
  return signatures.join(" ");
}

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 1000;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    const raw = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** The secret before the last rotation signs too until it expires. */
export const previousSecretLive = (channel: { previousSecret: string | null; previousSecretExpiresAt: number | null }, now: number) =>
  channel.previousSecret !== null && (channel.previousSecretExpiresAt ?? 0) > now;

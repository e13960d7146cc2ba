import { ConfigError } from "../errors";
import { base64ToBytes, bytesToBase64, bytesToHex } from "./encoding";

/**
 * AES-GCM encryption for what the database must not hold in clear: signing secrets and
 * custom header values. Stored as `enc1:<key id>:<base64 of iv ‖ ciphertext>`; the key id
 * lets an operator tell which key wrote a value during a key rotation.
 */
export interface SecretBox {
  encrypt(plaintext: string): Promise<string>;
  decrypt(stored: string): Promise<string>;
}

const PREFIX = "enc1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Importing a key costs a little; keep one per isolate and key.
const boxes = new Map<string, Promise<SecretBox>>();

export function secretBox(encodedKey: string | undefined): Promise<SecretBox> {
  if (!encodedKey) return Promise.reject(new ConfigError("ENCRYPTION_KEY"));
  let box = boxes.get(encodedKey);
  if (!box) {
    box = createBox(encodedKey);
    boxes.set(encodedKey, box);
    box.catch(() => boxes.delete(encodedKey));
  }
  return box;
}

async function createBox(encodedKey: string): Promise<SecretBox> {
  let raw: Uint8Array;
  try {
    raw = base64ToBytes(encodedKey.trim());
  } catch {
    throw new ConfigError("ENCRYPTION_KEY (base64 of 32 random bytes)");
  }
  if (raw.length !== 32) throw new ConfigError("ENCRYPTION_KEY (base64 of 32 random bytes)");
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  const keyId = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 4));

  return {
    async encrypt(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(plaintext)));
      const out = new Uint8Array(iv.length + sealed.length);
      out.set(iv);
      out.set(sealed, iv.length);
      return `${PREFIX}:${keyId}:${bytesToBase64(out)}`;
    },
    async decrypt(stored) {
      const [prefix, id, payload] = stored.split(":");
      if (prefix !== PREFIX || !payload) throw new Error("not an encrypted value");
      if (id !== keyId) throw new ConfigError(`ENCRYPTION_KEY (value written with key ${id})`);
      const bytes = base64ToBytes(payload);
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, key, bytes.slice(12));
      return decoder.decode(plain);
    },
  };
}

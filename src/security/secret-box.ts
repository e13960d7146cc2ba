import { ConfigError } from "../core/errors";
import { base64ToBytes, bytesToBase64, bytesToHex } from "./encoding";

/**
 * AES-GCM encryption for what the database must not hold in clear: signing secrets and
 * custom header values. Stored as `enc1:<key id>:<base64 of iv ‖ ciphertext>`; the key id
 * says which key wrote a value, so a rotated-out key (ENCRYPTION_KEY_PREVIOUS) still
 * decrypts until the sweeper has re-encrypted everything under the new one.
 */
export interface SecretBox {
  encrypt(plaintext: string): Promise<string>;
  decrypt(stored: string): Promise<string>;
  /** The prefix of values written with the current key. */
  readonly currentPrefix: string;
  /** Whether an older key is still configured for decryption. */
  readonly rotating: boolean;
}

interface Keys {
  ENCRYPTION_KEY?: string;
  ENCRYPTION_KEY_PREVIOUS?: string;
}

const PREFIX = "enc1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Importing keys costs a little; keep one box per isolate and configuration.
const boxes = new Map<string, Promise<SecretBox>>();

export function secretBox(keys: Keys): Promise<SecretBox> {
  if (!keys.ENCRYPTION_KEY) return Promise.reject(ConfigError.missing("ENCRYPTION_KEY"));
  const cacheKey = `${keys.ENCRYPTION_KEY}|${keys.ENCRYPTION_KEY_PREVIOUS ?? ""}`;
  let box = boxes.get(cacheKey);
  if (!box) {
    box = createBox(keys.ENCRYPTION_KEY, keys.ENCRYPTION_KEY_PREVIOUS);
    boxes.set(cacheKey, box);
    box.catch(() => boxes.delete(cacheKey));
  }
  return box;
}

interface AesKey {
  id: string;
  key: CryptoKey;
}

async function importKey(encoded: string, name: string): Promise<AesKey> {
  let raw: Uint8Array;
  try {
    raw = base64ToBytes(encoded.trim());
  } catch {
    raw = new Uint8Array();
  }
  if (raw.length !== 32) throw ConfigError.missing(`${name} (base64 of 32 random bytes)`);
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  const id = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 4));
  return { id, key };
}

async function createBox(current: string, previous: string | undefined): Promise<SecretBox> {
  const keys = [await importKey(current, "ENCRYPTION_KEY")];
  if (previous) keys.push(await importKey(previous, "ENCRYPTION_KEY_PREVIOUS"));
  const [active] = keys as [AesKey];

  return {
    currentPrefix: `${PREFIX}:${active.id}:`,
    rotating: keys.length > 1,
    async encrypt(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, active.key, encoder.encode(plaintext)));
      const out = new Uint8Array(iv.length + sealed.length);
      out.set(iv);
      out.set(sealed, iv.length);
      return `${PREFIX}:${active.id}:${bytesToBase64(out)}`;
    },
    async decrypt(stored) {
      const [prefix, id, payload] = stored.split(":");
      if (prefix !== PREFIX || !payload) throw new Error("not an encrypted value");
      const match = keys.find((k) => k.id === id);
      if (!match) throw ConfigError.missing(`ENCRYPTION_KEY (value written with key ${id}; set it as ENCRYPTION_KEY_PREVIOUS)`);
      const bytes = base64ToBytes(payload);
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, match.key, bytes.slice(12));
      return decoder.decode(plain);
    },
  };
}

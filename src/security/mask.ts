import { type View, views } from "./decoded-views";
import { bytesToBase64 } from "./encoding";

/**
 * Masks the channel's secrets where a target echoed them back (an error page that prints
 * the request's headers): the attempt log shows responses to admins and is stored in clear,
 * while the values themselves are stored only encrypted.
 */
export const MASK = "[redacted]";

/** Shorter values are not secrets worth hiding, and masking them would blot out the text. */
const MIN_MASKED_LENGTH = 4;

/**
 * A function that masks these secrets in a text (a response excerpt), wherever the target
 * echoed them: as sent, or re-encoded by it, the way web stacks write a value back:
 *
 * - HTML-escaped: named (`&amp;`, `&quot;`, …) and numeric (`&#34;`, `&#x22;`) entities;
 * - percent-encoded (`%2B` or `%2b`, UTF-8), form-encoded (`+` for a space);
 * - JSON-escaped (`\"`, `\/`, `\u003c` in either case), and JSON holding any of the above;
 * - base64, standard and URL-safe, padded or not, also inside a longer base64 value.
 *
 * Whichever characters an encoder chose to escape, the text is decoded into a few views
 * that remember where each character came from, the secrets are looked for in each, and
 * what they cover in the original is replaced by `[redacted]`. The base64 spellings are
 * worked out once, here: the masker is built once per channel (src/delivery/request.ts).
 */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  const plain = [...new Set(secrets.filter((s) => s.length >= MIN_MASKED_LENGTH))];
  const needles = [...new Set([...plain, ...plain.flatMap(base64Spellings)])];
  if (!needles.length) return (text) => text;
  return (text) => {
    if (!text) return text;
    const ranges: [number, number][] = [];
    const partial = text.length - (PARTIAL_ESCAPE.exec(text)?.[0].length ?? 0);
    for (const view of views(text)) {
      for (const needle of needles) {
        for (let i = view.text.indexOf(needle); i >= 0; i = view.text.indexOf(needle, i + 1)) ranges.push([view.start[i]!, view.end[i + needle.length - 1]!]);
      }
      for (const secret of needles) {
        const at = cutTail(view, secret, partial);
        if (at !== undefined) ranges.push([at, text.length]);
      }
    }
    return redact(text, ranges);
  };
}

export const maskSecrets = (text: string, secrets: readonly string[]) => secretMasker(secrets)(text);

// --- base64 ------------------------------------------------------------------------------

/**
 * The secret's UTF-8 bytes in base64 (standard and URL-safe, padded and not), and the
 * characters that encode only its bytes when it sits at any of the 3 offsets inside a
 * longer base64 value (an echoed `Authorization: Basic …`), if long enough to be telling.
 */
function base64Spellings(secret: string): string[] {
  const bytes = new TextEncoder().encode(secret);
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = bytesToBase64(padded);
    if (offset === 0) out.push(encoded, encoded.replace(/=+$/, ""));
    const core = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
    if (core.length >= MIN_BASE64_CORE) out.push(core);
  }
  return [...out, ...out.map((b) => b.replace(/\+/g, "-").replace(/\//g, "_"))].filter((b) => b.length >= MIN_MASKED_LENGTH);
}
const MIN_BASE64_CORE = 8;

// --- the cut at 1 KiB, and the replacing --------------------------------------------------

/** An escape the 1 KiB cut may have split (`%2`, `&#x2`, `\u00`), at the very end. */
const PARTIAL_ESCAPE = /(?:%[0-9a-f]?|&#?[xX]?[0-9a-zA-Z]{0,7}|\\(?:u[0-9a-fA-F]{0,3})?)$/;

/**
 * The response excerpt is cut at 1 KiB: a secret cut in two still shows its start. Where
 * in the original the view's last characters (before a split escape) begin a secret.
 */
function cutTail(view: View, secret: string, partial: number): number | undefined {
  let limit = view.text.length;
  while (limit > 0 && view.end[limit - 1]! > partial) limit--;
  const text = view.text.slice(0, limit);
  const head = secret.slice(0, MIN_MASKED_LENGTH);
  for (let i = text.indexOf(head, Math.max(0, text.length - secret.length)); i >= 0; i = text.indexOf(head, i + 1)) {
    if (secret.startsWith(text.slice(i))) return view.start[i];
  }
  return undefined;
}

/** The text with each of these ranges (merged where they touch) replaced by `MASK`. */
function redact(text: string, ranges: [number, number][]): string {
  if (!ranges.length) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  let open: [number, number] | undefined;
  for (const [from, to] of ranges) {
    if (open && from <= open[1]) open[1] = Math.max(open[1], to);
    else {
      if (open) out += MASK;
      out += text.slice(at, from);
      open = [from, to];
    }
    at = open[1];
  }
  return `${out}${MASK}${text.slice(at)}`;
}

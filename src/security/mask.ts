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

// --- views: the text with one encoding undone, each character knowing its source ------

/** A decoded text; character i came from `original.slice(start[i], end[i])`. */
interface View {
  text: string;
  start: number[];
  end: number[];
}

/** Encodings undone, one on top of another: an echo may nest a few (HTML then percent, base64 of JSON). */
const DECODERS: ((from: View) => View)[] = [
  decodeJson,
  decodeHtml,
  (v) => decodePercent(v, false),
  (v) => decodePercent(v, true),
  decodeBase64Runs,
  decodeHexRuns,
];
const MAX_NESTING = 3;
/** Bounds the work on a hostile excerpt: distinct views are few on any real echo. */
const MAX_VIEWS = 48;

function views(text: string): View[] {
  const identity: View = { text, start: [], end: [] };
  for (let i = 0; i < text.length; i++) {
    identity.start.push(i);
    identity.end.push(i + 1);
  }
  const all = [identity];
  const seen = new Set([text]);
  let frontier = all;
  for (let depth = 0; depth < MAX_NESTING && frontier.length; depth++) {
    const next: View[] = [];
    for (const view of frontier) {
      for (const decode of DECODERS) {
        if (all.length >= MAX_VIEWS) return all;
        const decoded = decode(view);
        if (seen.has(decoded.text)) continue;
        seen.add(decoded.text);
        all.push(decoded);
        next.push(decoded);
      }
    }
    frontier = next;
  }
  return all;
}

/** Runs that may be base64 (standard or URL-safe) or hex, long enough to hold a secret. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{8,}={0,2}/y;
const HEX_RUN = /(?:[0-9a-fA-F]{2}){4,}/y;

/** A base64 run that decodes to UTF-8 text: every character of that text stands for the whole run. */
function decodeBase64Runs(from: View): View {
  return decodeRuns(from, BASE64_RUN, (run) => {
    const standard = run.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    if (standard.length % 4 === 1) return undefined;
    return Uint8Array.from(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)), (c) => c.charCodeAt(0));
  });
}

function decodeHexRuns(from: View): View {
  return decodeRuns(from, HEX_RUN, (run) => Uint8Array.from(run.match(/../g)!, (pair) => Number.parseInt(pair, 16)));
}

function decodeRuns(from: View, pattern: RegExp, bytesOf: (run: string) => Uint8Array | undefined): View {
  const t = from.text;
  return decoder(from, (i, take) => {
    // A run starts at a boundary, not inside a word.
    if (i > 0 && /[A-Za-z0-9+/_-]/.test(t[i - 1]!)) return;
    pattern.lastIndex = i;
    const run = pattern.exec(t)?.[0];
    if (!run) return;
    try {
      const bytes = bytesOf(run);
      if (bytes) take(run.length, utf8.decode(bytes));
    } catch {
      // Not that encoding, or not text: left as written.
    }
  });
}

/** Builds a view char by char: `take(n, chars)` replaces the next n source characters. */
function decoder(from: View, step: (at: number, take: (n: number, chars: string) => void) => void): View {
  const out: View = { text: "", start: [], end: [] };
  const chars: string[] = [];
  let i = 0;
  const take = (n: number, decoded: string) => {
    for (let k = 0; k < decoded.length; k++) {
      out.start.push(from.start[i]!);
      out.end.push(from.end[i + n - 1]!);
    }
    chars.push(decoded);
    i += n;
  };
  while (i < from.text.length) {
    const before = i;
    step(i, take);
    if (i === before) take(1, from.text[i]!);
  }
  out.text = chars.join("");
  return out;
}

const JSON_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

function decodeJson(from: View): View {
  const t = from.text;
  return decoder(from, (i, take) => {
    if (t[i] !== "\\") return;
    const next = t[i + 1] ?? "";
    if (next === "u" && /^[0-9a-f]{4}$/i.test(t.slice(i + 2, i + 6))) take(6, String.fromCharCode(Number.parseInt(t.slice(i + 2, i + 6), 16)));
    else if (Object.hasOwn(JSON_ESCAPES, next)) take(2, JSON_ESCAPES[next]!);
  });
}

/** HTML's named references for the characters an escaper may write as names. */
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  sol: "/",
  bsol: "\\",
  equals: "=",
  plus: "+",
  num: "#",
  percnt: "%",
  excl: "!",
  dollar: "$",
  lpar: "(",
  rpar: ")",
  ast: "*",
  comma: ",",
  period: ".",
  colon: ":",
  semi: ";",
  quest: "?",
  commat: "@",
  lsqb: "[",
  rsqb: "]",
  lowbar: "_",
  grave: "`",
  lcub: "{",
  rcub: "}",
  verbar: "|",
  tilde: "~",
  Hat: "^",
};
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z]{2,6});)/y;

function decodeHtml(from: View): View {
  const t = from.text;
  return decoder(from, (i, take) => {
    if (t[i] !== "&") return;
    ENTITY.lastIndex = i;
    const m = ENTITY.exec(t);
    if (!m) return;
    // A numeric reference may omit its ";" (HTML parses it either way).
    const length = m[0].length + (!m[3] && t[i + m[0].length] === ";" ? 1 : 0);
    const code = m[1] ? Number(m[1]) : m[2] ? Number.parseInt(m[2], 16) : undefined;
    if (code !== undefined && code <= 0x10ffff) take(length, String.fromCodePoint(code));
    else if (m[3] && Object.hasOwn(ENTITIES, m[3])) take(length, ENTITIES[m[3]]!);
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** %XX in either case, as UTF-8; with `form`, "+" is a space too. */
function decodePercent(from: View, form: boolean): View {
  const t = from.text;
  const byteAt = (i: number) => (t[i] === "%" && /^[0-9a-f]{2}$/i.test(t.slice(i + 1, i + 3)) ? Number.parseInt(t.slice(i + 1, i + 3), 16) : -1);
  return decoder(from, (i, take) => {
    if (form && t[i] === "+") return take(1, " ");
    const lead = byteAt(i);
    if (lead < 0) return;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    const bytes = [lead];
    for (let k = 1; k < length; k++) bytes.push(byteAt(i + 3 * k));
    if (bytes.some((b) => b < 0)) return;
    try {
      take(3 * length, utf8.decode(new Uint8Array(bytes)));
    } catch {
      // Not UTF-8: left as written.
    }
  });
}

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

// Views of a text with its encodings undone (JSON, HTML, percent, base64, hex), nested a few deep, each character knowing its source.

/** A decoded text; character i came from `original.slice(start[i], end[i])`. */
export interface View {
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

export function views(text: string): View[] {
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

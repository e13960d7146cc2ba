/**
 * The portal's values as text a person reads in a chat tool: any JSON value written out
 * without throwing, made plain (one line, no direction overrides, no mention or link the
 * tool would act on), and cut to a tool's limit on a character boundary with "…".
 */

/**
 * Any JSON value as display text, never throwing: strings as they are, numbers and
 * booleans as JSON writes them, arrays as their items joined by ", " ("none" when empty),
 * objects as compact JSON, null and undefined as "". Never `String(x)` on an object: a
 * parsed `{"toString": 1}` makes that throw ("Cannot convert object to primitive value").
 * At most `max` UTF-16 code units are built (a 256 KiB array is not written out whole);
 * longer text is returned cut, and the caller's `cutToFit` adds the ellipsis.
 */
export function displayText(value: unknown, max = 4096): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value.length > max ? value.slice(0, max + 1) : value;
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.length) return "none";
    let out = "";
    for (const item of value) {
      out += (out ? ", " : "") + displayText(item, max);
      if (out.length > max) break;
    }
    return out;
  }
  if (typeof value === "object") {
    try {
      const json = JSON.stringify(value) ?? "";
      return json.length > max ? json.slice(0, max + 1) : json;
    } catch {
      return "";
    }
  }
  return "";
}

// Direction overrides and isolates (the "Trojan Source" characters) and the marks that
// reorder what follows them: a name must not turn the rest of the line around.
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// Line breaks and other control characters, with the spaces around them: one space, so a
// name can never start a line of its own.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const BREAKS = /[\s\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g;
// A surrogate without its other half: JSON can carry one (`"\ud800"`), no tool shows it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// What Slack, Discord and Teams read as a mention or a mass ping: `<!here>`, `<@U1>`,
// `<#C1>`, `<@&role>`, `@everyone`, `@here`, `@channel`.
const MENTION_OPEN = /<(?=[!@#&])/g;
const MASS_MENTION = /@(?=everyone|here|channel)/gi;
// A scheme's "://" that a tool would turn into a link.
const URL_SCHEME = /([A-Za-z][A-Za-z0-9+.-]{0,31}):\/\//g;
const ZWSP = "\u200B";

/**
 * A portal value made plain, the same for every tool: one line (line breaks and control
 * characters become a space), no bidi controls, no lone surrogates, and a zero-width space
 * after the `<` of a mention, the `@` of a mass mention and the ":" of a URL's "://", so no
 * tool pings anyone or makes a link of it. Each tool's own markup is escaped afterwards.
 */
export function plainText(s: string): string {
  return s
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(BIDI, "")
    .replace(BREAKS, " ")
    .trim()
    .replace(MENTION_OPEN, `<${ZWSP}`)
    .replace(MASS_MENTION, `@${ZWSP}`)
    .replace(URL_SCHEME, `$1:${ZWSP}//`);
}

export const ELLIPSIS = "…";

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The text, escaped for a tool by `escapeChunk(chunk, at)` (`chunk` is the text from index `at`;
 * applied per character when cutting, so an escape is never cut in two), in at most `max`
 * UTF-16 code units (what the tools' limits count, or more); longer text is cut on a
 * grapheme boundary (never inside an emoji or a surrogate pair) and ends with "…".
 */
export function cutToFit(text: string, max: number, escapeChunk: (chunk: string, at: number) => string = (s) => s): string {
  const whole = escapeChunk(text, 0);
  if (whole.length <= max) return whole;
  let out = "";
  // Only the start can fit: segment no more than that (the text may be 256 KiB).
  for (const { segment, index } of graphemes.segment(text.slice(0, max + 8))) {
    const next = escapeChunk(segment, index);
    if (out.length + next.length + ELLIPSIS.length > max) break;
    out += next;
  }
  return out + ELLIPSIS;
}

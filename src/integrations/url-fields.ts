import { targetUrlProblem } from "../security/target-url";

/**
 * URL placeholders: `https://api.example.com/contacts/{Message.Email}?org={Message.OrgID}`.
 * Each `{dotted.path}` is the event's value at that path (`Event`, `Message…`,
 * `Timestamp`; a number indexes an array: `Message.Products.0`), percent-encoded as one
 * path segment or query value with `encodeURIComponent` (RFC 3986 §2.1: a `/`, `?`, `#`,
 * `&` or `=` in the value is encoded, so a value never adds a segment or a parameter).
 * Placeholders may stand in the path and the query only: never in the scheme, host or
 * port, which the guard judges as written.
 */

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

export const hasPlaceholders = (url: string) => url.includes("{");

/** The URL with every placeholder replaced by `value`: how the guard sees its host and form. */
const filled = (url: string, value: string) => url.replace(PLACEHOLDER, value);

/**
 * Why a URL's placeholders are refused, or null: a malformed one, or one before the
 * path (scheme, host, port). The rest of the URL is judged by the guard as usual, on the
 * URL with each placeholder filled in.
 */
export function placeholderProblem(url: string): string | null {
  if (!hasPlaceholders(url)) return null;
  for (const [whole, path] of url.matchAll(PLACEHOLDER)) {
    if (!PATH.test(path!)) return `placeholder ${whole} must be a dotted path such as {Message.Email}`;
  }
  if (/[{}]/.test(url.replace(PLACEHOLDER, ""))) return "has an unmatched { or }";
  // The authority ends at the first "/", "?" or "#" after "//": a placeholder before it is in the scheme, host or port.
  const authorityEnd = url.slice(url.indexOf("//") + 2).search(/[/?#]/);
  const start = url.indexOf("//") + 2;
  const head = authorityEnd < 0 ? url : url.slice(0, start + authorityEnd);
  if (url.indexOf("//") < 0 || head.includes("{")) return "may hold placeholders in its path and query only, never in the scheme, host or port";
  return null;
}

/** The guard's verdict on a URL with placeholders: its form, then its host and port. */
export function urlWithPlaceholdersProblem(url: string, allowPrivate: boolean): string | null {
  return placeholderProblem(url) ?? targetUrlProblem(filled(url, "x"), allowPrivate);
}

/** The event's value at a dotted path, or undefined. */
export function valueAt(event: unknown, path: string): unknown {
  let value = event;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The URL for one event: each placeholder replaced by its encoded value. A missing,
 * null, object or array value is an error naming the path (the delivery fails: the
 * event's data is at fault).
 */
export function expandUrl(url: string, event: unknown): { ok: true; url: string } | { ok: false; message: string } {
  let missing: string | undefined;
  const out = url.replace(PLACEHOLDER, (_whole, path: string) => {
    const value = valueAt(event, path);
    if (typeof value === "string" ? value === "" : typeof value !== "number" && typeof value !== "boolean") {
      missing ??= path;
      return "";
    }
    return encodeURIComponent(String(value));
  });
  if (missing) return { ok: false, message: `URL: the event has no value at ${missing}` };
  return { ok: true, url: out };
}

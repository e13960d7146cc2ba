/**
 * One outbound HTTP call with a hard deadline, never following redirects, and its result
 * as a value: the status and the first KiB of the body, or the kind of failure.
 * Test Connection and every delivery attempt go through here.
 */
export type CallResult =
  | { ok: true; status: number; body: string; headers: Headers; durationMs: number }
  | { ok: false; error: CallError; message: string; durationMs: number };

// workerd reports a refused and a dropped connection alike ("Network connection lost."),
// and locally a DNS failure as a bare "internal error": the kinds name what can be told apart.
export type CallError = "timeout" | "connection" | "dns" | "tls" | "network";

export const RESPONSE_SNIPPET_BYTES = 1024;
/**
 * How long the excerpt may take once the status has arrived. Success is decided on the
 * status (a 2xx within the timeout); a slow or endless body only shortens the excerpt.
 */
export const EXCERPT_DEADLINE_MS = 1000;
/** What is read of a connection after an interim response, to find the final response's head in it. */
const INTERIM_READ_BYTES = 64 * 1024;

/**
 * Calls `url` with a deadline of `timeoutMs` for the final status to arrive. `durationMs`:
 * from the start to that status. Never throws.
 */
export async function call(url: string, init: RequestInit, timeoutMs: number): Promise<CallResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: "manual", signal });
  } catch (err) {
    const error = classify(err, signal);
    const message = error === "timeout" ? `timed out after ${timeoutMs / 1000}s` : `${MESSAGES[error]} (${describe(err)})`;
    return { ok: false, error, message, durationMs: elapsed() };
  }
  const body = new BodyReader(res);
  if (res.status >= 200) {
    const durationMs = elapsed();
    const excerpt = decode(await body.read(RESPONSE_SNIPPET_BYTES, EXCERPT_DEADLINE_MS));
    return { ok: true, status: res.status, body: excerpt, headers: res.headers, durationMs };
  }
  // An interim response: the final one follows in the body's bytes, within the call's deadline.
  const raw = await body.read(INTERIM_READ_BYTES, timeoutMs - elapsed(), (bytes) => finalAfterInterim(decode(bytes)) !== undefined);
  const durationMs = elapsed();
  if (!finalAfterInterim(decode(raw))) {
    body.cancel();
    const message = `the target sent an interim ${res.status} response and no final one within the timeout (${timeoutMs / 1000}s)`;
    return { ok: false, error: "timeout", message, durationMs };
  }
  // The final response's body excerpt, as for any response.
  const rest = await body.read(RESPONSE_SNIPPET_BYTES, EXCERPT_DEADLINE_MS);
  body.cancel();
  return { ok: true, ...finalAfterInterim(decode(concat([raw, rest])))!, durationMs };
}

/**
 * Reads a response body in steps, each bounded in bytes and time, keeping what arrived;
 * `cancel` drops the rest without downloading it. A read that fails (the call's deadline,
 * a dropped connection) ends the body: what arrived is what there is.
 */
class BodyReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private ended = false;

  constructor(res: Response) {
    this.reader = res.body?.getReader();
    if (!this.reader) this.ended = true;
  }

  /** Up to `limit` bytes, for at most `deadlineMs`, or until `enough(what was read)`. */
  async read(limit: number, deadlineMs: number, enough?: (bytes: Uint8Array) => boolean): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, deadlineMs));
    });
    try {
      while (!this.ended && size < limit) {
        const pending = this.reader!.read();
        // A read that loses the race to the deadline fails when the body is cancelled: not an error.
        pending.catch(() => {});
        const read = await Promise.race([pending, deadline]);
        if (read === "late") break;
        if (read.done) {
          this.ended = true;
          break;
        }
        chunks.push(read.value);
        size += read.value.byteLength;
        if (enough?.(concat(chunks))) break;
      }
    } catch {
      this.ended = true;
    } finally {
      clearTimeout(timer);
    }
    if (!enough) this.cancel();
    return concat(chunks).subarray(0, limit);
  }

  cancel() {
    this.ended = true;
    this.reader?.cancel().catch(() => {});
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// A multi-byte character cut at the limit decodes to U+FFFD rather than failing.
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * workerd hands an interim response (100 Continue, 102 Processing, 103 Early Hints; RFC
 * 9110 §15.2) back as if it were the final one, with the rest of the connection's bytes as
 * its body, the final response among them (seen with wrangler 4.86). An interim status is
 * never the answer: the final status line, headers and body excerpt are read from those
 * bytes. `undefined` if no final response is in them.
 */
export function finalAfterInterim(raw: string): { status: number; headers: Headers; body: string } | undefined {
  let rest = raw;
  for (;;) {
    const line = /^HTTP\/\d(?:\.\d)? (\d{3})[^\r\n]*\r\n/.exec(rest);
    const end = rest.indexOf("\r\n\r\n");
    if (!line || end < 0) return undefined;
    const status = Number(line[1]);
    const head = rest.slice(line[0].length, end);
    rest = rest.slice(end + 4);
    if (status < 200) continue;
    const headers = new Headers();
    for (const field of head.split("\r\n")) {
      const colon = field.indexOf(":");
      if (colon > 0) headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
    }
    const chunked = /\bchunked\b/i.test(headers.get("transfer-encoding") ?? "");
    const body = chunked ? dechunk(rest) : rest;
    return { status, headers, body: new TextDecoder().decode(new TextEncoder().encode(body).subarray(0, RESPONSE_SNIPPET_BYTES)) };
  }
}

/** The data of a chunked body (RFC 9112 §7.1), as far as it arrived. */
function dechunk(raw: string): string {
  let out = "";
  let rest = raw;
  for (;;) {
    const line = /^([0-9a-fA-F]+)[^\r\n]*\r\n/.exec(rest);
    const size = line ? Number.parseInt(line[1]!, 16) : 0;
    if (!line || size === 0) return out;
    out += rest.slice(line[0].length, line[0].length + size);
    rest = rest.slice(line[0].length + size + 2);
  }
}

function classify(err: unknown, signal: AbortSignal): CallError {
  if (signal.aborted) return "timeout";
  const text = describe(err).toLowerCase();
  if (/refused|reset|connection lost|disconnected/.test(text)) return "connection";
  if (/dns|resolve|getaddrinfo|no such host/.test(text)) return "dns";
  if (text.includes("tls") || text.includes("ssl") || text.includes("certificate")) return "tls";
  return "network";
}

const MESSAGES: Record<Exclude<CallError, "timeout">, string> = {
  connection: "connection refused or dropped",
  dns: "host name did not resolve",
  tls: "TLS handshake failed",
  network: "network error",
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

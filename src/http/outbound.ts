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

export async function call(url: string, init: RequestInit, timeoutMs: number): Promise<CallResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { ...init, redirect: "manual", signal });
    const body = await readSnippet(res, signal);
    return { ok: true, status: res.status, body, headers: res.headers, durationMs: elapsed() };
  } catch (err) {
    const error = classify(err, signal);
    const message = error === "timeout" ? `timed out after ${timeoutMs / 1000}s` : `${MESSAGES[error]} (${describe(err)})`;
    return { ok: false, error, message, durationMs: elapsed() };
  }
}

/** Reads at most RESPONSE_SNIPPET_BYTES and drops the rest without downloading it. */
async function readSnippet(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_SNIPPET_BYTES && !signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // A multi-byte character cut at the limit decodes to U+FFFD rather than failing.
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_SNIPPET_BYTES));
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

/**
 * Structured log lines: ids, types, status codes and durations only. Never tokens,
 * secrets, header values or payload bodies.
 */
type Fields = Record<string, string | number | boolean | null | undefined>;

function line(level: "info" | "warn" | "error", msg: string, fields: Fields) {
  const out = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(out);
  else if (level === "warn") console.warn(out);
  else console.log(out);
}

/** A logger whose every line carries `bound` beside its own fields. */
const logger = (bound: Fields) => ({
  info: (msg: string, fields: Fields = {}) => line("info", msg, { ...bound, ...fields }),
  warn: (msg: string, fields: Fields = {}) => line("warn", msg, { ...bound, ...fields }),
  error: (msg: string, fields: Fields = {}) => line("error", msg, { ...bound, ...fields }),
});

export const log = {
  ...logger({}),
  /**
   * The lines written while answering a request: each carries its id, the one the caller
   * got in `X-Request-Id` (and in a 5xx body), so a pasted id finds its lines in one search.
   */
  forRequest: (requestId: string | undefined) => logger({ requestId }),
};

/** An error as the text a log line carries (never a stack). */
export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

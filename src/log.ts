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

export const log = {
  info: (msg: string, fields: Fields = {}) => line("info", msg, fields),
  warn: (msg: string, fields: Fields = {}) => line("warn", msg, fields),
  error: (msg: string, fields: Fields = {}) => line("error", msg, fields),
};

/** An error as the text a log line carries (never a stack). */
export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

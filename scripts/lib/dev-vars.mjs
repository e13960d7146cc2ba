// The local secrets file that `npm start` writes (.dev.vars), read the way wrangler does:
// NAME=value lines, everything after the first "=" is the value.
import { existsSync, readFileSync } from "node:fs";

/** @param {string} file @returns {Record<string, string>} (empty when the file is missing) */
export function readDevVars(file) {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => /^\w+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

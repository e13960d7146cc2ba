// Running a command to its end, for the scripts that drive wrangler and sqlite3.
import { spawn } from "node:child_process";

/**
 * Runs `command` with `args` to its end, without a terminal (so it never waits on a
 * prompt); `input` goes to its stdin.
 * @returns {Promise<{ status: number | null, out: string, err: string }>} what it printed on each stream
 * @throws when the command cannot be started at all
 */
export function runToEnd(command, args, { env, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, out, err }));
    if (input !== undefined) child.stdin.end(input);
  });
}

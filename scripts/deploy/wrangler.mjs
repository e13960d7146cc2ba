// wrangler, run the way the deploy needs it: without a terminal, so that it never waits on
// a prompt, and with what it said kept for the step's own message.
import path from "node:path";
import { runToEnd } from "../lib/run.mjs";
import { root } from "./paths.mjs";

const wrangler = process.env.WRANGLER ?? path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" };

/** @returns {Promise<{ ok: boolean, out: string, said: string }>} said: stdout and stderr together */
export async function run(...argv) {
  try {
    const { status, out, err } = await runToEnd(wrangler, argv, { cwd: root, env });
    return { ok: status === 0, out, said: `${out}\n${err}`.trim() };
  } catch (error) {
    return { ok: false, out: "", said: `could not run ${wrangler}: ${error.message}` };
  }
}

/** The first JSON value in wrangler's output (a warning may come before it). */
export function jsonIn(text) {
  const start = text.search(/[[{]/);
  if (start < 0) throw new Error("no JSON in wrangler's output");
  return JSON.parse(text.slice(start));
}

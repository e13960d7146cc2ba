// A script's command line, read with node:util parseArgs: its usage on --help or -h (exit 0),
// and one line, exit 2, for what it does not take (rather than parseArgs' stack trace).
import { parseArgs } from "node:util";

/**
 * The values of `options` (plus --help / -h) on this process's command line.
 * @param {import("node:util").ParseArgsConfig["options"]} options
 * @param {{ usage: string, command: string }} about the usage printed on --help, and the
 *   command it is for (`npm run demo`), named on a refusal
 * @returns {Record<string, string | boolean | undefined>} the values
 */
export function readArgs(options, { usage, command }) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: "boolean", short: "h" } } }));
  } catch (error) {
    if (!String(error?.code).startsWith("ERR_PARSE_ARGS_")) throw error;
    // "Unknown option '--x'", "Option '--format <value>' argument missing", "Unexpected argument 'x'":
    // the first sentence says it (later Node versions add advice on positionals).
    refuseArgs(`${error.message.split(". ")[0]}: \`${command} -- --help\` lists the options.`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** Refuses the command line with one line, before anything has run: exit 2. */
export function refuseArgs(message) {
  console.error(`✗ ${message}`);
  process.exit(2);
}

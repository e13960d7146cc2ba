// What the golden scripts (scripts/golden-*.mjs) share: running a piece of the project's
// TypeScript in Node, and writing what it gives as a golden file in test/fixtures/golden/.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buildSync } from "esbuild";

const root = path.resolve(import.meta.dirname, "../..");

/** Bundles `contents` (TypeScript; paths relative to the project's root) with esbuild and imports it: its exports. */
export async function importTypeScript(contents) {
  const { outputFiles } = buildSync({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString("base64")}`);
}

/** Writes `golden` as JSON to test/fixtures/golden/`name`, and says so. */
export function writeGolden(name, golden) {
  const file = `test/fixtures/golden/${name}`;
  writeFileSync(path.join(root, file), `${JSON.stringify(golden, null, 2)}\n`);
  console.log(`Wrote ${file}`);
}

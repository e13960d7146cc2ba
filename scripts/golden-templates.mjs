#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import path from "node:path";
// `npm run golden:templates`: rewrites test/fixtures/golden/templates.json, the request each
// integration template (src/integrations/templates) makes of each of its events' samples,
// after a deliberate change to a template. test/integrations.test.ts compares the Workers
// runtime's requests against it; review the diff before committing.
import { buildSync } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const { outputFiles } = buildSync({
  stdin: {
    contents: `export { templateRequests } from "./src/integrations/template-requests";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  write: false,
});
const { templateRequests } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString("base64")}`);
const golden = await templateRequests();
writeFileSync(path.join(root, "test/fixtures/golden/templates.json"), `${JSON.stringify(golden, null, 2)}\n`);
console.log("Wrote test/fixtures/golden/templates.json");

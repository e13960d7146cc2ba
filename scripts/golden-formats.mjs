#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import path from "node:path";
// `npm run golden`: rewrites test/fixtures/golden/formats.json, what one message of each
// chat format looks like (the AccessRequestCreated sample), after a deliberate change to
// src/routing/formats.ts. The test compares against it; review the diff before committing.
import { buildSync } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const { outputFiles } = buildSync({
  stdin: {
    contents: `import { renderBody } from "./src/routing/formats"; import { sampleEvent } from "./src/events/samples";
      const now = new Date("2026-01-02T03:04:05Z");
      export const golden = Object.fromEntries(["slack", "teams", "discord"].map((f) => [f, JSON.parse(renderBody(f, sampleEvent("AccessRequestCreated", now), "https://portal.example.com"))]));`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  write: false,
});
const { golden } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString("base64")}`);
writeFileSync(path.join(root, "test/fixtures/golden/formats.json"), `${JSON.stringify(golden, null, 2)}\n`);
console.log("Wrote test/fixtures/golden/formats.json");

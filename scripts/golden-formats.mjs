#!/usr/bin/env node
// `npm run golden`: rewrites test/fixtures/golden/formats.json, what one message of each
// chat format looks like (the AccessRequestCreated sample), after a deliberate change to
// src/routing/formats.ts. The test compares against it; review the diff before committing.
import { importTypeScript, writeGolden } from "./lib/golden.mjs";

const { golden } = await importTypeScript(
  `import { renderBody } from "./src/routing/formats"; import { sampleEvent } from "./src/portal/samples";
  const now = new Date("2026-01-02T03:04:05Z");
  export const golden = Object.fromEntries(["slack", "teams", "discord"].map((f) => [f, JSON.parse(renderBody(f, sampleEvent("AccessRequestCreated", now), "https://portal.example.com"))]));`,
);
writeGolden("formats.json", golden);

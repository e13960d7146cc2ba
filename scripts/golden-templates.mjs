#!/usr/bin/env node
// `npm run golden:templates`: rewrites test/fixtures/golden/templates.json, the request each
// integration template (src/integrations/templates) makes of each of its events' samples,
// after a deliberate change to a template. test/integrations/templates.test.ts compares the Workers
// runtime's requests against it; review the diff before committing.
import { importTypeScript, writeGolden } from "./lib/golden.mjs";

const { templateRequests } = await importTypeScript(`export { templateRequests } from "./src/integrations/template-requests";`);
writeGolden("templates.json", await templateRequests());

#!/usr/bin/env node
// `npm start`: everything a fresh clone needs to run locally. Creates .dev.vars with random
// tokens (once), applies the D1 migrations to the local database, and runs `wrangler dev`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { readDevVars } from "./lib/dev-vars.mjs";

const root = path.resolve(import.meta.dirname, "..");
const devVars = path.join(root, ".dev.vars");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const port = process.env.PORT ?? "8787";
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// A port another server holds would only fail once wrangler is up, after the migrations and
// the tokens printed above its error: say so first, and what to do.
const free = await new Promise((resolve) => {
  const probe = createServer()
    .once("error", () => resolve(false))
    .listen(Number(port), "127.0.0.1", () => probe.close(() => resolve(true)));
});
if (!free) {
  console.error(`Port ${port} is in use (another dispatcher, or something else): stop it, or pick another port, e.g. \`PORT=9000 npm start\`.`);
  process.exit(1);
}

if (!existsSync(devVars)) {
  const token = () => randomBytes(24).toString("base64url");
  writeFileSync(
    devVars,
    [
      "# Local secrets for `wrangler dev`, made by `npm start`. Never commit this file.",
      `ADMIN_TOKEN=${token()}`,
      `INTAKE_TOKEN=${token()}`,
      `ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`,
      // Local receivers live on 127.0.0.1.
      "ALLOW_PRIVATE_TARGETS=true",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  console.log("Created .dev.vars with new local tokens.");
}

const vars = readDevVars(devVars);

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? "");
  process.exit(migrate.status ?? 1);
}
console.log("Local D1 migrations applied.");

console.log(`
  Admin UI     http://127.0.0.1:${port}/
  ADMIN_TOKEN  ${vars.ADMIN_TOKEN}
  INTAKE_TOKEN ${vars.INTAKE_TOKEN}

  Try it:      npm run demo   (in another terminal)
`);

const dev = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", port, "--test-scheduled", ...process.argv.slice(2)], { cwd: root, env, stdio: "inherit" });

// wrangler dev does not fire cron triggers; fire the sweeper every minute as production would,
// so a local run also recovers deliveries whose in-memory queue message was lost.
const sweeper = setInterval(() => {
  fetch(`http://127.0.0.1:${port}/__scheduled?cron=*+*+*+*+*`).catch(() => {});
}, 60_000);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => {
  clearInterval(sweeper);
  process.exit(code ?? 0);
});

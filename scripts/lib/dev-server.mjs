// A real `wrangler dev` of the project (or of the benchmark floor) on its own fresh state,
// for the browser tests, the benchmark and the soak.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "../..");
export const floorDir = path.resolve(root, "../shared/bench/floor");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const quiet = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true", NO_COLOR: "1" };

// Every server started here dies with this process, however it ends: an orphaned workerd
// would go on delivering and skew the next measurement.
const running = new Set();
process.on("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

/** A free loopback port: any, or one of `DEV_PORT_RANGE` ("8840-8860") when that is set, on a machine shared with fixed ports. */
export async function freePort() {
  const range = process.env.DEV_PORT_RANGE?.match(/^(\d+)-(\d+)$/);
  const candidates = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : [0];
  for (const candidate of candidates) {
    if (range && taken.has(candidate)) continue;
    const server = http.createServer();
    const listening = await new Promise((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(candidate, "127.0.0.1", () => resolve(true));
    });
    if (!listening) continue;
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    // Handed out once: the caller may not bind it before the next call.
    if (range) taken.add(port);
    return port;
  }
  throw new Error(`no free port in DEV_PORT_RANGE ${process.env.DEV_PORT_RANGE}`);
}
const taken = new Set();

/**
 * @typedef {{ url: string, port: number, inspectorPort: number, pid: number, state: string, vars: Record<string, string>,
 *   output(): string, stop(options?: { keepState?: boolean }): Promise<void>, restart(): Promise<Worker> }} Worker
 */

/**
 * Starts `wrangler dev` in `cwd` with local D1 state in `state` (migrated first), and the
 * given vars. Returns { url, port, state, vars, stop(), restart() }; stop({ keepState })
 * kills it (the whole process group, workerd included).
 * @param {{ cwd?: string, vars?: Record<string, string>, state?: string, port?: number, log?: boolean, main?: string }} [options]
 * @returns {Promise<Worker>}
 */
export async function startWorker({ cwd = root, vars = {}, state, port, log = false, main } = {}) {
  state ??= mkdtempSync(path.join(tmpdir(), "dispatcher-state-"));
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd, env: quiet, encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`migrations failed in ${cwd}:\n${migrate.stdout}\n${migrate.stderr}`);
  port ??= await freePort();

  const inspectorPort = await freePort();
  // `main`: another entry than wrangler.toml's (the soak's D1 faults: test/faults/worker.ts).
  const args = [
    "dev",
    ...(main ? [main] : []),
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    state,
    "--inspector-port",
    String(inspectorPort),
    "--test-scheduled",
  ];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  // Its own process group, so stopping it stops workerd too.
  const child = spawn(wrangler, args, { cwd, env: quiet, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child.pid);
  let output = "";
  const collect = (d) => {
    output += d;
    if (output.length > 200_000) output = output.slice(-100_000);
    if (log) process.stderr.write(d);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start in ${cwd}:\n${output}`);
    await new Promise((r) => setTimeout(r, 150));
  }

  const worker = {
    url,
    port,
    inspectorPort,
    /** The process group: wrangler and its workerd. */
    pid: child.pid,
    state,
    vars,
    output: () => output,
    async stop({ keepState = false } = {}) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
      running.delete(child.pid);
      if (!keepState) rmSync(state, { recursive: true, force: true });
    },
    /** Kills the worker (its in-memory queue with it) and starts it again on the same D1 state. */
    async restart() {
      await worker.stop({ keepState: true });
      return startWorker({ cwd, vars, state, port, log, main });
    },
  };
  return worker;
}

/** The project with fresh random secrets and local targets allowed.
 *  @param {Record<string, string>} [vars] @param {{ log?: boolean, main?: string }} [options] */
export function startDispatcher(vars = {}, options = {}) {
  return startWorker({
    ...options,
    vars: {
      ADMIN_TOKEN: randomBytes(18).toString("base64url"),
      INTAKE_TOKEN: randomBytes(18).toString("base64url"),
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ALLOW_PRIVATE_TARGETS: "true",
      ...vars,
    },
  });
}

/** The benchmark floor (../shared/bench/floor), delivering to `sinkUrl`. */
export function startFloor(sinkUrl) {
  if (!existsSync(floorDir)) throw new Error(`the floor worker is not at ${floorDir}`);
  return startWorker({ cwd: floorDir, vars: { SINK_URL: sinkUrl } });
}

/** Admin API calls against a started dispatcher. */
export function adminClient(worker) {
  return async (method, route, body) => {
    const res = await fetch(`${worker.url}/portal-api${route}`, {
      method,
      headers: { Authorization: `Bearer ${worker.vars.ADMIN_TOKEN}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/**
 * The README's path as a newcomer follows it, against a real `wrangler dev`: `npm run demo`
 * first, then the "Try it with curl" blocks pasted in order, in one shell. If the README
 * drifts from the API, or the demo leaves something behind that changes what the curl
 * steps answer (its channel still enabled, on the curl receiver's port), this fails.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startDispatcher } from "../../scripts/lib/dev-server.mjs";

const root = path.resolve(import.meta.dirname, "../..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");

/** The ```sh blocks of a README section, in order. */
function shellBlocks(section: string): string[] {
  const start = readme.indexOf(`## ${section}`);
  const end = readme.indexOf("\n## ", start + 1);
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A person reads each answer before pasting on: a wait, in the shell, for what they would see. */
const waitFor = (check: string) =>
  `for _ in $(seq 1 80); do curl -s $BASE/portal-api/webhooks/$ID/deliveries -H "Authorization: Bearer $ADMIN" | grep -q '${check}' && break; sleep 0.25; done\n`;

describe("README: the demo, then Try it with curl", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const done of cleanup.reverse()) await done();
  });

  it("works pasted in order after the demo: one delivery per event, retries, redeliver, delete", async () => {
    const server = await startDispatcher();
    cleanup.push(() => server.stop());
    const env = { ...process.env, PORT: String(server.port) };

    // The demo, as the quick start says, on the same PORT (its receiver on a free port: its
    // default must simply not be the curl receiver's).
    const demoSource = readFileSync(path.join(root, "scripts/demo.mjs"), "utf8");
    const demoDefault = /DEMO_RECEIVER_PORT \?\? (\d+)/.exec(demoSource)?.[1];
    expect(demoDefault).toBeDefined();
    expect(demoDefault).not.toBe("8789");
    const demo = spawnSync("node", ["scripts/demo.mjs"], {
      cwd: root,
      encoding: "utf8",
      env: {
        ...env,
        ADMIN_TOKEN: server.vars.ADMIN_TOKEN,
        INTAKE_TOKEN: server.vars.INTAKE_TOKEN,
        DEMO_RECEIVER_PORT: String(await freePort()),
      },
      timeout: 60_000,
    });
    expect(demo.status, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toContain(`Dispatcher at ${server.url}`);
    expect(demo.stdout).toContain("13 of 13 events arrived and verified.");
    // Its last line is a page a browser can open (the admin UI), not an API URL that answers 401.
    expect(demo.stdout.trim().split("\n").at(-1)).toMatch(new RegExp(`^ *${server.url}/#/channels/[0-9a-f-]{36}$`));
    const channels = await (await fetch(`${server.url}/portal-api/webhooks`, { headers: { Authorization: `Bearer ${server.vars.ADMIN_TOKEN}` } })).json();
    expect(channels.map((c: { Enabled: boolean }) => c.Enabled)).toEqual([false]);

    const [receiverBlock, ...steps] = shellBlocks("Try it with curl");
    expect(receiverBlock).toContain("listen(8789)");
    expect(steps.at(-1)).toContain("-X DELETE");
    const receiverPort = String(await freePort());
    const dir = mkdtempSync(path.join(tmpdir(), "readme-"));
    writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${server.vars.ADMIN_TOKEN}\nINTAKE_TOKEN=${server.vars.INTAKE_TOKEN}\n`);

    let printed = "";
    const receiver: ChildProcess = spawn("bash", ["-c", receiverBlock!.replaceAll("8789", receiverPort)], { cwd: dir });
    receiver.stdout!.on("data", (d) => (printed += d));
    cleanup.push(() => void receiver.kill());
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${receiverPort}/`, { method: "POST", body: "" }).catch(() => null))?.status).toBe(200);

    // The blocks in order, in one shell (variables carry over, as in one terminal), each
    // after the state its predecessor's answer shows.
    const [main, retry, redeliver, remove] = steps;
    expect(main).toContain("# What happened to it");
    const script = [
      main!.replace("# What happened to it", `${waitFor('"Status":"succeeded"')}# What happened to it`),
      retry,
      waitFor('"Status":"retrying"'),
      redeliver,
      waitFor('"Status":"succeeded".*"Status":"succeeded"'),
      'curl -s $BASE/portal-api/webhooks/$ID/deliveries -H "Authorization: Bearer $ADMIN"; echo',
      remove,
    ].join("\n");
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", script.replaceAll("8789", receiverPort)], { cwd: dir, encoding: "utf8", env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('"Success":true');
    // The demo's channel is disabled: the event goes to the curl channel only.
    expect(run.stdout).toContain('"Deliveries":1');
    expect(run.stdout).not.toContain('"Deliveries":2');
    expect(run.stdout).toContain('"Status":"retrying"');
    expect(run.stdout).toMatch(/"LastError":"[^"]*connection/);
    expect(run.stdout.trim().endsWith('{"status":"ok"}')).toBe(true);
    // Each body on a line of its own: the first event, then the second, delivered by the redeliver.
    const ids = () => [...printed.matchAll(/"Message": \{"ID": (\d+)/g)].map((m) => Number(m[1]));
    await expect.poll(ids).toContain(30);
    expect(ids()[0]).toBe(29);
    expect(printed).not.toContain("}{");
  });
});

/**
 * The README's "Try it with curl" steps, run as a newcomer would paste them (in order,
 * in bash), against a real `wrangler dev`: if the README drifts from the API, this fails.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startDispatcher } from "../../scripts/lib/dev-server.mjs";

const root = path.resolve(import.meta.dirname, "../..");

/** The ```sh blocks of a README section, in order. */
function shellBlocks(section: string): string[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf(`## ${section}`);
  const end = readme.indexOf("\n## ", start + 1);
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe("README: Try it with curl", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const done of cleanup.reverse()) await done();
  });

  it("works pasted block by block: a channel, Test Connection, an event that arrives, the deliveries, a delete", async () => {
    const [receiverBlock, steps] = shellBlocks("Try it with curl");
    expect(receiverBlock).toContain("listen(8789)");
    const server = await startDispatcher();
    cleanup.push(() => server.stop());
    const receiverPort = String(await freePort());
    const dir = mkdtempSync(path.join(tmpdir(), "readme-"));
    writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${server.vars.ADMIN_TOKEN}\nINTAKE_TOKEN=${server.vars.INTAKE_TOKEN}\n`);

    let printed = "";
    const receiver: ChildProcess = spawn("bash", ["-c", receiverBlock!.replaceAll("8789", receiverPort)], { cwd: dir });
    receiver.stdout!.on("data", (d) => (printed += d));
    cleanup.push(() => void receiver.kill());
    await new Promise((r) => setTimeout(r, 500));

    // A person reads the 202 before pasting on: wait, as they would, for the delivery to land.
    expect(steps).toContain("# What happened to it");
    const paced = steps!.replace(
      "# What happened to it",
      'for _ in $(seq 1 40); do curl -s $BASE/portal-api/webhooks/$ID/deliveries -H "Authorization: Bearer $ADMIN" | grep -q succeeded && break; sleep 0.25; done\n# What happened to it',
    );
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", paced.replaceAll("8789", receiverPort)], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PORT: String(server.port) },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('"Success":true');
    expect(run.stdout).toContain('"Deliveries":1');
    expect(run.stdout).toContain('"Status":"succeeded"');
    expect(run.stdout.trim().endsWith('{"status":"ok"}')).toBe(true);
    // What the receiver printed while spawnSync held this process's event loop.
    await expect.poll(() => printed).toContain('"Event": "UserRegistered"');
  });
});

/**
 * `npm run deploy` with the real wrangler (node_modules', 4.86) against a stand-in of the
 * Cloudflare API (cloudflare-api.mjs, started by deploy-cloud.ts), on loopback only. In
 * every case: no generated secret is lost, no secrets file is left behind, and the address
 * and tokens printed are the ones the worker has.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { closeClouds, cloud, DEFAULT, expectPrintedAsDeployed, migrations } from "./deploy-cloud";

afterEach(closeClouds);

describe("npm run deploy, with the real wrangler", { timeout: 180_000 }, () => {
  it("stops before creating anything on an account without a workers.dev subdomain, then deploys once it has one", async () => {
    const c = await cloud({ subdomain: null });
    const refused = await c.deploy();
    expect(refused.status, refused.output).toBe(1);
    expect(refused.output).toContain("This account has no workers.dev subdomain yet.");
    expect(refused.output).toContain(`https://dash.cloudflare.com/${c.api.accountId}/workers/onboarding`);
    expect(refused.output).toContain("Nothing was created.");
    expect(c.account.queues).toEqual([]);
    expect(c.account.databases).toEqual([]);
    expect(c.account.workers).toEqual({});
    expect(existsSync(c.keptSecrets())).toBe(false);

    c.account.subdomain = "example";
    const run = await c.deploy();
    expect(run.status, run.output).toBe(0);
    expectPrintedAsDeployed(c, run.output, `https://${DEFAULT}.example.workers.dev`);
    expect(c.account.queues.map((q) => q.queue_name)).toEqual([
      `${DEFAULT}-deliveries`,
      `${DEFAULT}-deliveries-dlq`,
      `${DEFAULT}-events-to-store`,
      `${DEFAULT}-events-to-store-dlq`,
    ]);
    expect(c.account.databases[0]!.migrations).toEqual(migrations);
    const worker = c.worker();
    expect(worker.workersDev).toBe(true);
    expect(worker.crons).toEqual(["* * * * *"]);
    expect(worker.bindings.find((b) => b.name === "DELIVERY_QUEUE")).toMatchObject({ text: `${DEFAULT}-deliveries` });
    expect(worker.bindings.find((b) => b.name === "STORE_QUEUE")).toMatchObject({ text: `${DEFAULT}-events-to-store` });
    expect(worker.bindings.find((b) => b.name === "STORE_DEAD_LETTER_QUEUE")).toMatchObject({ text: `${DEFAULT}-events-to-store-dlq` });
    expect(c.account.queues.map((q) => q.consumers.map((x) => x.script))).toEqual([[DEFAULT], [DEFAULT], [DEFAULT], [DEFAULT]]);
  });

  it("keeps the tokens when a step after the upload fails, and the re-run uploads and prints the same ones", async () => {
    const c = await cloud({ fail: "schedules" });
    const failed = await c.deploy();
    expect(failed.status, failed.output).toBe(1);
    expect(failed.output).toContain("cron triggers");
    const uploaded = c.worker().secrets;
    expect(failed.output).toContain(`ADMIN_TOKEN   ${uploaded.ADMIN_TOKEN}`);
    expect(failed.output).toContain(`INTAKE_TOKEN  ${uploaded.INTAKE_TOKEN}`);
    expect(failed.output).toContain(c.keptSecrets());
    expect(statSync(c.keptSecrets()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(c.keptSecrets(), "utf8"))).toEqual(uploaded);

    c.api.faults.fail = undefined;
    const rerun = await c.deploy();
    expect(rerun.status, rerun.output).toBe(0);
    expect(rerun.output).toContain("all three exist, kept");
    expect(c.worker().secrets).toEqual(uploaded);
    expectPrintedAsDeployed(c, rerun.output, `https://${DEFAULT}.example.workers.dev`);

    // Once finished, a re-run changes no secret and prints none.
    const again = await c.deploy();
    expect(again.status, again.output).toBe(0);
    expect(again.output).toContain("already up to date");
    expect(again.output).not.toContain(uploaded.ADMIN_TOKEN);
    expect(again.output).toContain("Authorization: Bearer <the INTAKE_TOKEN printed by the first deploy>");
    expect(c.worker().secrets).toEqual(uploaded);
  });

  it("keeps the tokens when the upload itself fails, and uploads those same values next time", async () => {
    const c = await cloud({ fail: "upload" });
    const failed = await c.deploy();
    expect(failed.status, failed.output).toBe(1);
    expect(c.account.workers).toEqual({});
    const kept = JSON.parse(readFileSync(c.keptSecrets(), "utf8"));
    expect(failed.output).toContain(`INTAKE_TOKEN  ${kept.INTAKE_TOKEN}`);

    c.api.faults.fail = undefined;
    const rerun = await c.deploy();
    expect(rerun.status, rerun.output).toBe(0);
    expect(c.worker().secrets).toEqual(kept);
    expectPrintedAsDeployed(c, rerun.output, `https://${DEFAULT}.example.workers.dev`);
  });

  it("serves a custom domain beside workers.dev, and turns workers.dev off only when asked", async () => {
    const c = await cloud();
    const run = await c.deploy("--domain", "hooks.example.com");
    expect(run.status, run.output).toBe(0);
    expectPrintedAsDeployed(c, run.output, "https://hooks.example.com");
    expect(run.output).toContain(`Also at       https://${DEFAULT}.example.workers.dev/`);
    expect(c.account.domains).toMatchObject([{ hostname: "hooks.example.com", service: DEFAULT }]);
    expect(c.worker().workersDev).toBe(true);

    const off = await c.deploy("--domain", "hooks.example.com", "--no-workers-dev");
    expect(off.status, off.output).toBe(0);
    expect(c.worker().workersDev).toBe(false);
    expect(off.output).toContain("Target URL   https://hooks.example.com/events");
    expect(off.output).not.toContain("workers.dev/");
  });

  it("keeps the domain to its deployment: --name never takes it, and never gets another's", async () => {
    const c = await cloud();
    expect((await c.deploy("--domain", "hooks.example.com")).status).toBe(0);

    const staging = await c.deploy("--name", "staging");
    expect(staging.status, staging.output).toBe(0);
    expectPrintedAsDeployed(c, staging.output, "https://staging.example.workers.dev", "staging");
    expect(c.account.domains).toMatchObject([{ hostname: "hooks.example.com", service: DEFAULT }]);
    expect(c.worker("staging").secrets.ADMIN_TOKEN).not.toBe(c.worker().secrets.ADMIN_TOKEN);
    expect(c.account.databases.map((d) => d.name)).toEqual([DEFAULT, "staging"]);
    expect(staging.output).toContain("npx wrangler tail staging");

    const grab = await c.deploy("--name", "staging", "--domain", "hooks.example.com");
    expect(grab.status, grab.output).toBe(1);
    expect(grab.output).toContain(`hooks.example.com is the custom domain of the worker "${DEFAULT}"`);
    expect(c.account.domains).toMatchObject([{ hostname: "hooks.example.com", service: DEFAULT }]);
    expect(c.worker("staging").versions).toBe(1);
  });

  it("rotates ENCRYPTION_KEY: a new key, the old one moved to ENCRYPTION_KEY_PREVIOUS, tokens untouched", async () => {
    const c = await cloud();
    expect((await c.deploy("--name", "prod")).status).toBe(0);
    const before = c.worker("prod").secrets;

    const run = await c.deploy("--name", "prod", "--rotate-key");
    expect(run.status, run.output).toBe(0);
    const after = c.worker("prod").secrets;
    expect(after.ENCRYPTION_KEY_PREVIOUS).toBe(before.ENCRYPTION_KEY);
    expect(after.ENCRYPTION_KEY).not.toBe(before.ENCRYPTION_KEY);
    expect(Buffer.from(after.ENCRYPTION_KEY!, "base64")).toHaveLength(32);
    expect(after.ADMIN_TOKEN).toBe(before.ADMIN_TOKEN);
    expect(after.INTAKE_TOKEN).toBe(before.INTAKE_TOKEN);
    expect(run.output).not.toContain(after.ENCRYPTION_KEY);
    expect(run.output).not.toContain(before.ENCRYPTION_KEY);
    expect(run.output).toContain("npx wrangler secret delete ENCRYPTION_KEY_PREVIOUS --name prod");

    // A second rotation before the first is finished would strand values under the oldest key.
    const again = await c.deploy("--name", "prod", "--rotate-key");
    expect(again.status, again.output).toBe(1);
    expect(again.output).toContain("the last rotation is not finished");
    expect(c.worker("prod").secrets).toEqual(after);
  });

  it("does not take over a queue or a database of the same name that belongs to something else", async () => {
    const c = await cloud();
    c.account.queues.push({
      queue_id: "q1",
      queue_name: "shared-deliveries",
      created_on: "2025-01-01T00:00:00Z",
      consumers: [{ script: "billing", type: "worker", settings: {} }],
      producers: [],
    });
    const queue = await c.deploy("--name", "shared");
    expect(queue.status, queue.output).toBe(1);
    expect(queue.output).toContain("is used by worker:billing");
    expect(queue.output).toContain("--name <name>");
    expect(c.account.workers).toEqual({});

    c.account.databases.push({ uuid: "d1", name: "other", created_at: "2025-01-01T00:00:00Z", migrations: [], tables: ["users", "orders"] });
    const database = await c.deploy("--name", "other");
    expect(database.status, database.output).toBe(1);
    expect(database.output).toContain("holds tables this dispatcher did not make (users, orders)");
    expect(c.account.workers).toEqual({});
  });

  it("refuses the one-query rebuild on a database too large for it, before changing anything", async () => {
    const c = await cloud();
    const before = migrations.filter((m) => m < "0010");
    c.account.databases.push({
      uuid: "big",
      name: "big",
      created_at: "2025-01-01T00:00:00Z",
      migrations: before,
      tables: ["d1_migrations", "deliveries"],
      deliveries: 2_000_000,
    });
    const run = await c.deploy("--name", "big");
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain("this database has 2,000,000 deliveries");
    expect(run.output).toContain("Upgrading a large database");
    expect(c.account.databases.find((d) => d.name === "big")!.migrations).toEqual(before);
    expect(c.account.workers).toEqual({});
    expect(existsSync(c.keptSecrets("big"))).toBe(false);
  });

  it("refuses options it cannot honour before calling wrangler", async () => {
    const c = await cloud();
    for (const [args, message] of [
      [["--name", "Bad_Name"], 'The name "Bad_Name" cannot be used'],
      [["--batch-size", "500"], "--batch-size must be a whole number from 1 to 100"],
      [["--no-workers-dev"], "--no-workers-dev needs --domain"],
      [["--domain", "https://x"], "--domain takes a host name"],
    ] as const) {
      const run = await c.deploy(...args);
      expect(run.status).toBe(2);
      expect(run.output).toContain(message);
    }
    expect(c.api.requests).toEqual([]);
  });
});

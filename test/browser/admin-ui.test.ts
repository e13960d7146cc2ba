import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../scripts/lib/dev-server.mjs";
import { startReceiver, type Receiver } from "./receiver";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const root = path.resolve(import.meta.dirname, "../..");
const seed: { type: string; body: string }[] = JSON.parse(readFileSync(path.join(root, "test/fixtures/seed-payloads.json"), "utf8"));

if (!existsSync(CHROMIUM)) {
  // CI installs Chromium (.ci/run); a developer without it is told how, and CI never passes without it.
  const message = `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`;
  if (process.env.CI) throw new Error(message);
  console.warn(`${message} Browser tests not run.`);
}

describe.runIf(existsSync(CHROMIUM))("admin UI in Chromium", () => {
  let server: Awaited<ReturnType<typeof startDispatcher>> & { adminToken: string; intakeToken: string };
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  /** Uncaught errors in the page: every test ends with none. */
  const pageErrors: Error[] = [];

  beforeAll(async () => {
    const [worker, target] = await Promise.all([startDispatcher(), startReceiver()]);
    server = Object.assign(worker, { adminToken: worker.vars.ADMIN_TOKEN!, intakeToken: worker.vars.INTAKE_TOKEN! });
    receiver = target;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      // launch() gives the browser a fresh, temporary profile of its own.,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(err));
  });

  afterEach(() => {
    expect(pageErrors.map((e) => e.message)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), receiver?.close()]);
  });

  function postEvent(body: string) {
    return fetch(`${server.url}/events`, { method: "POST", headers: { Authorization: `Bearer ${server.intakeToken}`, "Content-Type": "application/json" }, body });
  }

  it("refuses a wrong token, then signs in and shows the empty state", async () => {
    await page.goto(server.url);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#token-error").textContent()).toContain("not accepted");

    await page.getByLabel("Admin token").fill(server.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "No channels yet" }).waitFor();
    // The token lives in this tab's session storage, not in the URL.
    expect(page.url()).not.toContain(server.adminToken);
    expect(await page.evaluate(() => sessionStorage.getItem("adminToken"))).toBe(server.adminToken);
  });

  it("creates a channel: the API's errors appear beside their fields, then it saves", async () => {
    await page.getByRole("link", { name: "Create the first channel" }).click();
    await page.getByLabel("Name", { exact: true }).fill("CRM");
    await page.getByLabel("Target URL").fill("ftp://crm.example.com/hooks");
    await page.getByLabel("Timeout (seconds)").fill("90");
    await page.getByRole("button", { name: "Add header" }).click();
    await page.getByLabel("Header 1 name").fill("Content-Type");
    await page.getByLabel("Header 1 value").fill("text/plain");
    await page.getByRole("button", { name: "Create channel" }).click();

    await expect.poll(() => page.locator('[data-error-for="URL"]').textContent()).toContain("must use http or https");
    expect(await page.locator('[data-error-for="Timeout"]').textContent()).toContain("at most 60");
    expect(await page.locator('[data-error-for="Events"]').textContent()).toContain("at least one");
    expect(await page.locator('[data-error-for="Headers.0"]').textContent()).toContain("reserved");
    expect(await page.getByLabel("Target URL").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("Target URL").fill(receiver.url);
    await page.getByLabel("Timeout (seconds)").fill("5");
    await page.getByLabel("Header 1 name").fill("X-Api-Key");
    await page.getByLabel("Header 1 value").fill("crm-key-1");
    await page.getByLabel("Select all").check();
    await page.getByRole("button", { name: "Create channel" }).click();

    await page.getByRole("heading", { name: "CRM", level: 1 }).waitFor();
    expect(page.url()).toMatch(/#\/channels\/[0-9a-f-]{36}$/);
    const channels = await (await fetch(`${server.url}/portal-api/webhooks`, { headers: { Authorization: server.adminToken } })).json();
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ Name: "CRM", URL: receiver.url, Timeout: 5, Headers: [{ Name: "X-Api-Key", Value: "crm-key-1" }] });
    expect(channels[0].Events).toHaveLength(14);
  });

  it("tests the connection with a HEAD to the receiver", async () => {
    await page.getByRole("button", { name: "Test Connection" }).click();
    await expect.poll(() => page.locator(".test-result").textContent()).toMatch(/^Success: 200 in \d+ ms$/);
    const head = receiver.received.find((r) => r.method === "HEAD");
    expect(head).toBeDefined();
    expect(head!.headers["x-api-key"]).toBeUndefined();
  });

  it("shows a posted event's delivery turn succeeded", async () => {
    const res = await postEvent(seed[0]!.body);
    expect(res.status).toBe(202);
    const row = page.locator("tr[data-delivery]").first();
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 15_000 }).toBe("succeeded");
    expect(await row.locator("td").first().textContent()).toBe("UserRegistered");
    const arrived = receiver.received.filter((r) => r.method === "POST");
    expect(arrived.at(-1)!.body).toBe(seed[0]!.body);
  });

  it("shows a failing delivery's attempts, and Redeliver sends it again", async () => {
    receiver.status = 500;
    await postEvent(seed[4]!.body);
    const row = page.locator("tr[data-delivery]").first();
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 15_000 }).toBe("retrying");
    await row.getByRole("button", { name: "Attempts" }).click();
    const attempts = page.locator("tr.attempts-row").first();
    await expect.poll(() => attempts.textContent()).toContain("refused with 500");

    receiver.status = 200;
    await row.getByRole("button", { name: "Redeliver" }).click();
    await expect.poll(() => page.locator("tr[data-delivery]").first().getAttribute("data-status"), { timeout: 15_000 }).toBe("succeeded");
    await expect.poll(() => page.locator("tr.attempts-row").first().textContent()).toContain("thanks");

    // The README's picture: refreshed with UPDATE_SCREENSHOTS=1 npm test.
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.byteLength).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOTS) writeFileSync(path.join(root, "docs/channel-page.png"), shot);
  });

  it("reveals, rotates and shows the signing secret", async () => {
    await page.getByRole("button", { name: "Reveal" }).click();
    await expect.poll(() => page.locator("#secret-value").textContent()).toMatch(/^whsec_/);
    const before = await page.locator("#secret-value").textContent();

    await page.getByRole("button", { name: "Rotate" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Rotate" }).click();
    await expect.poll(() => page.locator("#secret-value").textContent()).not.toBe(before);
    expect(await page.locator("#secret-value").textContent()).toMatch(/^whsec_/);
    await expect.poll(() => page.getByText("The previous secret also signs until").count()).toBe(1);
  });

  it("lists events, filters them by type, and opens one to its deliveries", async () => {
    await page.getByRole("link", { name: "Events" }).click();
    await expect.poll(() => page.locator("details.event").count()).toBe(2);
    await page.getByLabel("Type").selectOption("ApplicationRegistered");
    await expect.poll(() => page.locator("details.event").count()).toBe(1);
    await page.locator("details.event summary").first().click();
    await expect.poll(() => page.locator("details.event tr[data-delivery]").count()).toBe(1);
    expect(await page.locator("details.event tr[data-delivery] td").first().textContent()).toBe("CRM");
  });

  it("shows a payload nested deep, collapsed past a depth, without crashing", async () => {
    const deep = (n: number): unknown => (n === 0 ? "bottom" : { level: deep(n - 1) });
    const event = JSON.parse(seed[0]!.body);
    const res = await postEvent(JSON.stringify({ ...event, Message: { ...event.Message, ID: 777, Extra: deep(60) } }));
    expect(res.status).toBe(202);
    await page.getByLabel("Type").selectOption("");
    await expect.poll(() => page.locator("details.event").count()).toBe(3);
    await page.locator("details.event summary").first().click();
    await expect.poll(() => page.locator("details.event pre.payload").first().textContent()).toContain("{…}");
    expect(await page.locator("details.event pre.payload").first().textContent()).toContain('"ID": 777');
  });

  it("works by keyboard and fits a narrow window", async () => {
    await page.goto(`${server.url}/#/`);
    await page.getByRole("link", { name: "CRM" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "CRM", level: 1 }).waitFor();
    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("deletes a channel after confirmation", async () => {
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("button", { name: "Delete channel" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    expect(page.url()).toContain("/edit");
    await page.getByRole("button", { name: "Delete channel" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByRole("heading", { name: "No channels yet" }).waitFor();
  });

  it("pages through more channels than fit one page", async () => {
    for (let i = 1; i <= 55; i++) {
      const res = await fetch(`${server.url}/portal-api/webhooks`, {
        method: "POST",
        headers: { Authorization: server.adminToken, "Content-Type": "application/json" },
        body: JSON.stringify({ Name: `Channel ${String(i).padStart(2, "0")}`, URL: receiver.url, Events: ["UserRegistered"] }),
      });
      expect(res.status).toBe(201);
    }
    await page.goto(`${server.url}/#/channels`);
    await expect.poll(() => page.locator("tr[data-channel]").count()).toBe(50);
    await page.getByRole("link", { name: "Next →" }).click();
    await expect.poll(() => page.locator("tr[data-channel]").count()).toBe(5);
    expect(await page.locator("tr[data-channel] a").first().textContent()).toBe("Channel 51");
    expect(await page.getByRole("link", { name: "Next →" }).count()).toBe(0);
    await page.getByRole("link", { name: "← Previous" }).click();
    await expect.poll(() => page.locator("tr[data-channel]").count()).toBe(50);
  });

  it("shows how to connect the portal, and turns green when its Test Connection arrives", async () => {
    await page.getByRole("link", { name: "Connect portal" }).click();
    await page.getByRole("heading", { name: "Connect your portal" }).waitFor();
    expect(await page.locator("dl.settings").textContent()).toContain(`${server.url}/events`);
    // The token stays hidden until asked for.
    expect(await page.locator("#intake-token").textContent()).toBe("Bearer ••••••••••••••••");
    expect(await page.content()).not.toContain(server.intakeToken);
    const state = page.locator("#connection-state");
    if (!(await state.textContent())!.includes("Test Connection arrived")) {
      expect(await state.textContent()).toContain("Waiting for the portal's Test Connection");
    }

    // The portal's Test Connection: a bare HEAD.
    expect((await fetch(`${server.url}/events`, { method: "HEAD" })).status).toBe(200);
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toContain("The portal's Test Connection arrived");
    expect(await state.textContent()).toContain("Last event:");

    await page.getByRole("button", { name: "Reveal" }).click();
    await expect.poll(() => page.locator("#intake-token").textContent()).toBe(`Bearer ${server.intakeToken}`);
  });

  it("signs out, clearing the token", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("adminToken"))).toBeNull();
  });
});

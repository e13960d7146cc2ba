/**
 * A first session in the admin UI, on one page in order, each test going on from where the
 * one before left it: a wrong token refused and signing in, the first channel made through
 * the form (the API's errors beside their fields), its connection tested, its deliveries
 * (succeeded, failing, sent again), its signing secret, the events list, connecting the
 * portal, and signing out. It starts its dispatcher itself rather than through the harness:
 * it begins signed out, and checks the intake token the dispatcher was given.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../scripts/lib/dev-server.mjs";
import { hasChromium, launchChromium, seed } from "./harness";
import { type Receiver, startReceiver } from "./receiver";

describe.runIf(hasChromium)("admin UI in Chromium", () => {
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
    browser = await launchChromium();
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
    return fetch(`${server.url}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.intakeToken}`, "Content-Type": "application/json" },
      body,
    });
  }

  it("refuses a wrong token, then signs in and shows the empty state", async () => {
    await page.goto(server.url);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#token-error").textContent()).toContain("not accepted");

    await page.getByLabel("Admin token").fill(server.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByRole("link", { name: "Channels" }).click();
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
    await expect.poll(() => page.locator(".event[data-event]").count()).toBe(2);
    await page.getByLabel("Type").selectOption("ApplicationRegistered");
    await expect.poll(() => page.locator(".event[data-event]").count()).toBe(1);
    await page.locator(".event .event-toggle").first().click();
    await expect.poll(() => page.locator(".event tr[data-delivery]").count()).toBe(1);
    expect(await page.locator(".event tr[data-delivery] td").first().textContent()).toBe("CRM ApplicationRegistered");
  });

  it("shows a payload nested deep, collapsed past a depth, without crashing", async () => {
    const deep = (n: number): unknown => (n === 0 ? "bottom" : { level: deep(n - 1) });
    const event = JSON.parse(seed[0]!.body);
    const res = await postEvent(JSON.stringify({ ...event, Message: { ...event.Message, ID: 777, Extra: deep(60) } }));
    expect(res.status).toBe(202);
    await page.getByLabel("Type").selectOption("");
    await expect.poll(() => page.locator(".event[data-event]").count()).toBe(3);
    await page.locator(".event .event-toggle").first().click();
    await expect.poll(() => page.locator(".event pre.payload").first().textContent()).toContain("{…}");
    expect(await page.locator(".event pre.payload").first().textContent()).toContain('"ID": 777');
  });

  it("shows how to connect the portal, and turns green when its Test Connection arrives", async () => {
    await page.getByRole("link", { name: "Connect portal" }).click();
    await page.getByRole("heading", { name: "Connect your portal" }).waitFor();
    expect(await page.locator("dl.settings").textContent()).toContain(`${server.url}/events`);
    // The token stays hidden until asked for.
    expect(await page.locator("#intake-token").textContent()).toBe("Bearer ••••••••••••••••");
    expect(await page.content()).not.toContain(server.intakeToken);
    // Nothing has sent the intake a HEAD yet in this run: it waits for the portal.
    const state = page.locator("#connection-state");
    expect(await state.textContent()).toContain("Waiting for the portal's Test Connection");
    expect(await state.textContent()).not.toContain("Test Connection arrived");

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

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

  /** Waits until the router has rendered the view of `hash` (it marks main when done). */
  function rendered(p: Page, hash: string) {
    return p.locator(`main[aria-busy="false"][data-route="${hash}"]`).waitFor();
  }

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

  it("works by keyboard and fits a narrow window", async () => {
    await page.goto(`${server.url}/#/channels`);
    // A hash change renders asynchronously: wait for the list before reaching into it.
    await rendered(page, "#/channels");
    // Each channel shows its health: its newest delivery's status.
    expect(await page.locator('tr[data-channel] td[data-label="Last delivery"] .badge').textContent()).toMatch(/^(succeeded|retrying|failed|pending)$/);
    await page.locator("tr[data-channel]").getByRole("link", { name: "CRM" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "CRM", level: 1 }).waitFor();
    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("keeps keyboard focus, and open attempts, through the page's refreshes", async () => {
    await page.goto(`${server.url}/#/channels`);
    await rendered(page, "#/channels");
    await page.locator("tr[data-channel]").getByRole("link", { name: "CRM" }).click();
    await page.getByRole("heading", { name: "CRM", level: 1 }).waitFor();
    const toggle = page.locator("tr[data-delivery]").first().getByRole("button", { name: "Attempts" });
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("tr.attempts-row").count()).toBe(1);
    const focused = () => page.evaluate(() => `${document.activeElement?.textContent}|${document.activeElement?.closest("tr")?.dataset.delivery}`);
    const before = await focused();
    expect(before).toMatch(/^Hide attempts\|[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The deliveries refresh every 2 s: after two refreshes, focus and the open row stay.
    const refreshes = Number(await page.locator(".delivery-table").first().getAttribute("data-refreshes"));
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>(".delivery-table")?.dataset.refreshes) >= n, refreshes + 2, {
      timeout: 30_000,
    });
    expect(await focused()).toBe(before);
    expect(await page.locator("tr.attempts-row").count()).toBe(1);
  });

  it("shows a not-found state for an unknown channel, not the previous one", async () => {
    await page.goto(`${server.url}/#/channels/00000000-0000-0000-0000-000000000000`);
    await page.getByRole("heading", { name: "This channel does not exist" }).waitFor();
    expect(await page.getByRole("heading", { name: "CRM", level: 1 }).count()).toBe(0);
    await page.getByRole("link", { name: "All channels" }).click();
    await page.getByRole("heading", { name: "Channels", level: 1 }).waitFor();
  });

  it("disables and enables a channel from its page; a disabled one offers no Redeliver", async () => {
    await page.locator("tr[data-channel]").getByRole("link", { name: "CRM" }).click();
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => page.locator('[data-part="state"] .badge-disabled').count()).toBe(1);
    await expect.poll(() => page.locator("tr[data-delivery] .redeliver:visible").count()).toBe(0);
    await page.getByRole("button", { name: "Enable" }).click();
    await expect.poll(() => page.locator('[data-part="state"] .badge-enabled').count()).toBe(1);
    await expect.poll(() => page.locator("tr[data-delivery] .redeliver:visible").count()).toBeGreaterThan(0);
  });

  it("sends a test event of a chosen type through the channel", async () => {
    const before = receiver.received.length;
    await page.getByLabel("Event type").selectOption("AccessRequestCreated");
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => page.locator(".test-event-result").textContent()).toMatch(/^Delivered: 200 in \d+ ms/);
    const sent = receiver.received.slice(before).find((r) => r.method === "POST");
    expect(JSON.parse(sent!.body).Event).toBe("AccessRequestCreated");
  });

  it("pauses and resumes a channel from its page: a delivery is held, shown, then sent", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator(".notice").waitFor();
    const posts = () => receiver.received.filter((r) => r.method === "POST").length;
    const before = posts();
    const event = JSON.parse(seed[9]!.body);
    expect((await postEvent(JSON.stringify({ ...event, Message: { ...event.Message, ID: 4242 } }))).status).toBe(202);
    await expect.poll(() => page.locator('tr[data-status="held"]').count(), { timeout: 10_000 }).toBe(1);
    await page.reload();
    await expect.poll(() => page.locator(".notice").textContent()).toContain("1 delivery held");
    expect(await page.locator(".notice").textContent()).toContain("purged like any other after 30 days");
    expect(posts()).toBe(before);
    await page.getByRole("button", { name: "Resume" }).click();
    await expect.poll(() => page.locator('tr[data-status="held"]').count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(posts, { timeout: 15_000 }).toBe(before + 1);
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

  it("shows on the dashboard what the traffic was, and retries failures in bulk after showing the count", async () => {
    const admin = (method: string, route: string, body?: unknown) =>
      fetch(`${server.url}/portal-api${route}`, {
        method,
        headers: { Authorization: server.adminToken, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const channel = await (await admin("POST", "/webhooks", { Name: "Dash", URL: receiver.url, Events: ["OrganisationRegistered"] })).json();
    const event = (n: number) =>
      JSON.stringify({
        Event: "OrganisationRegistered",
        Message: { ID: n, Name: `Org ${n}`, CreatedAt: "2024-04-22T16:38:54Z" },
        Timestamp: new Date().toISOString(),
      });
    const settled = async (status: string, n: number) =>
      expect.poll(async () => (await (await admin("GET", `/webhooks/${channel.ID}/deliveries?status=${status}`)).json()).length, { timeout: 15_000 }).toBe(n);
    for (let n = 1; n <= 3; n++) expect((await postEvent(event(n))).status).toBe(202);
    await settled("succeeded", 3);
    receiver.status = 410;
    expect((await postEvent(event(4))).status).toBe(202);
    await settled("failed", 1);
    receiver.status = 200;
    await admin("PATCH", `/webhooks/${channel.ID}`, { Enabled: true });

    await page.goto(`${server.url}/#/`);
    const row = page.locator(`tr[data-webhook="${channel.ID}"]`);
    await row.waitFor();
    expect(await row.locator('td[data-label="Success"]').textContent()).toBe("75.0%");
    expect(await row.locator('td[data-label="Failed"]').textContent()).toBe("1");
    expect(await row.locator('td[data-label="Last error"]').textContent()).toBe("target answered 410");
    const stats = await (await admin("GET", "/stats")).json();
    expect(await page.locator('[aria-label="Last 24 hours"] [data-tile="tile-failed"] dd').textContent()).toBe(String(stats.Counts.failed));
    expect(await page.locator(".chart").getAttribute("aria-label")).toContain(`${stats.Counts.succeeded} succeeded`);

    // Every failure in one place, and a bulk retry that says how many first.
    await page.getByRole("link", { name: "Deliveries" }).click();
    await page.getByLabel("Status").selectOption("failed");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator("tr[data-delivery]").count()).toBe(1);
    expect(await page.locator('tr[data-delivery] td[data-label="Last result"]').textContent()).toMatch(/^the target answered 410 Gone in \d+ ms$/);
    await page.getByRole("button", { name: "Retry failed…" }).click();
    expect(await page.getByRole("dialog").textContent()).toContain("Send again 1 failed delivery?");
    await page.getByRole("dialog").getByRole("button", { name: "Retry 1" }).click();
    await settled("succeeded", 4);
  });

  it("pages through more channels than fit one page", async () => {
    const existing = (await (await fetch(`${server.url}/portal-api/webhooks?per_page=100`, { headers: { Authorization: server.adminToken } })).json()).length;
    for (let i = 1; i <= 55; i++) {
      const res = await fetch(`${server.url}/portal-api/webhooks`, {
        method: "POST",
        headers: { Authorization: server.adminToken, "Content-Type": "application/json" },
        body: JSON.stringify({ Name: `Channel ${String(i).padStart(2, "0")}`, URL: receiver.url, Events: ["UserRegistered"] }),
      });
      expect(res.status).toBe(201);
    }
    // The view is one request however many channels it shows.
    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes("/portal-api/")) requests.push(new URL(r.url()).pathname);
    };
    page.on("request", onRequest);
    await page.goto(`${server.url}/#/channels`);
    await rendered(page, "#/channels");
    page.off("request", onRequest);
    expect(requests).toEqual(["/portal-api/webhooks"]);
    expect(await page.locator("tr[data-channel]").count()).toBe(50);
    expect(await page.locator(".pager").textContent()).toContain("Page 1");

    await page.getByRole("link", { name: "Next →" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 2" }).waitFor();
    expect(await page.locator("tr[data-channel]").count()).toBe(existing + 55 - 50);
    expect(await page.locator("tr[data-channel] a").first().textContent()).toBe(`Channel ${String(51 - existing).padStart(2, "0")}`);
    expect(await page.getByRole("link", { name: "Next →" }).count()).toBe(0);
    // The page is in the address bar: a reload shows the same page.
    expect(new URL(page.url()).hash).toMatch(/^#\/channels\?cursor=[A-Za-z0-9_-]+$/);
    await page.reload();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 2" }).waitFor();
    expect(await page.locator("tr[data-channel]").count()).toBe(existing + 55 - 50);
    await page.getByRole("link", { name: "← Previous" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 1" }).waitFor();
    expect(await page.locator("tr[data-channel]").count()).toBe(50);

    // An address with a position the list never gave leads back to the first page.
    await page.goto(`${server.url}/#/channels?cursor=garbage`);
    await page.getByRole("heading", { name: "This page of the list is out of date" }).waitFor();
    await page.getByRole("link", { name: "First page" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 1" }).waitFor();
    expect(new URL(page.url()).hash).toBe("#/channels");
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

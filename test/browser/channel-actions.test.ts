/**
 * A channel's page and its actions, on one page in order, each test going on from where the
 * one before left it: reached by keyboard and at a narrow width, focus and open attempts
 * kept through refreshes, an unknown channel, disable and enable, a test event, pause and
 * resume, and deleting it.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { deliveriesOf, hasChromium, seed, useHarness } from "./harness";

describe.runIf(hasChromium)("a channel's page and its actions, in order", () => {
  const h = useHarness();
  let page: Page;

  beforeAll(async () => {
    // The one channel here: CRM, subscribed to every type, with a delivery that succeeded.
    const crm = await h.channel({ Name: "CRM", Events: seed.map((s) => s.type) });
    await h.postEvent(seed[0]!.body);
    await deliveriesOf(h, crm.ID, "succeeded", 1);
    page = await h.page();
  });

  it("works by keyboard and fits a narrow window", async () => {
    // A hash change renders asynchronously: wait for the list before reaching into it.
    await h.open(page, "#/channels");
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
    await h.open(page, "#/channels");
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
    await page.goto(`${h.url}/#/channels/00000000-0000-0000-0000-000000000000`);
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
    const before = h.receiver.received.length;
    await page.getByLabel("Event type").selectOption("AccessRequestCreated");
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => page.locator(".test-event-result").textContent()).toMatch(/^Delivered: 200 in \d+ ms/);
    const sent = h.receiver.received.slice(before).find((r) => r.method === "POST");
    expect(JSON.parse(sent!.body).Event).toBe("AccessRequestCreated");
  });

  it("pauses and resumes a channel from its page: a delivery is held, shown, then sent", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator(".notice").waitFor();
    const posts = () => h.receiver.received.filter((r) => r.method === "POST").length;
    const before = posts();
    const event = JSON.parse(seed[9]!.body);
    expect((await h.postEvent(JSON.stringify({ ...event, Message: { ...event.Message, ID: 4242 } }))).status).toBe(202);
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
});

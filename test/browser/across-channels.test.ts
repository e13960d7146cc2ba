/**
 * What spans channels: the dashboard's traffic per channel, a bulk retry of the failures
 * from the Deliveries list, and the channel list's pages.
 */
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { hasChromium, useHarness } from "./harness";

describe.runIf(hasChromium)("what spans channels", () => {
  const h = useHarness();
  let page: Page;

  beforeAll(async () => {
    page = await h.page();
  });

  it("shows on the dashboard what the traffic was, and retries failures in bulk after showing the count", async () => {
    const channel = await (await h.admin("POST", "/webhooks", { Name: "Dash", URL: h.receiver.url, Events: ["OrganisationRegistered"] })).json();
    const event = (n: number) =>
      JSON.stringify({
        Event: "OrganisationRegistered",
        Message: { ID: n, Name: `Org ${n}`, CreatedAt: "2024-04-22T16:38:54Z" },
        Timestamp: new Date().toISOString(),
      });
    const settled = async (status: string, n: number) =>
      expect.poll(async () => (await (await h.admin("GET", `/webhooks/${channel.ID}/deliveries?status=${status}`)).json()).length, { timeout: 15_000 }).toBe(n);
    for (let n = 1; n <= 3; n++) expect((await h.postEvent(event(n))).status).toBe(202);
    await settled("succeeded", 3);
    h.receiver.status = 410;
    expect((await h.postEvent(event(4))).status).toBe(202);
    await settled("failed", 1);
    h.receiver.status = 200;
    await h.admin("PATCH", `/webhooks/${channel.ID}`, { Enabled: true });

    await page.goto(`${h.url}/#/`);
    const row = page.locator(`tr[data-webhook="${channel.ID}"]`);
    await row.waitFor();
    expect(await row.locator('td[data-label="Success"]').textContent()).toBe("75.0%");
    expect(await row.locator('td[data-label="Failed"]').textContent()).toBe("1");
    expect(await row.locator('td[data-label="Last error"]').textContent()).toBe("target answered 410");
    const stats = await (await h.admin("GET", "/stats")).json();
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
    const existing = (await (await fetch(`${h.url}/portal-api/webhooks?per_page=100`, { headers: { Authorization: h.adminToken } })).json()).length;
    for (let i = 1; i <= 55; i++) {
      const res = await fetch(`${h.url}/portal-api/webhooks`, {
        method: "POST",
        headers: { Authorization: h.adminToken, "Content-Type": "application/json" },
        body: JSON.stringify({ Name: `Channel ${String(i).padStart(2, "0")}`, URL: h.receiver.url, Events: ["UserRegistered"] }),
      });
      expect(res.status).toBe(201);
    }
    // The view is one request however many channels it shows.
    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes("/portal-api/")) requests.push(new URL(r.url()).pathname);
    };
    page.on("request", onRequest);
    await h.open(page, "#/channels");
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
    await page.goto(`${h.url}/#/channels?cursor=garbage`);
    await page.getByRole("heading", { name: "This page of the list is out of date" }).waitFor();
    await page.getByRole("link", { name: "First page" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 1" }).waitFor();
    expect(new URL(page.url()).hash).toBe("#/channels");
  });
});

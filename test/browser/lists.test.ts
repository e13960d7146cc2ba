/**
 * The Deliveries and Events lists: filters a keyboard can use, an event ID read as one,
 * and IDs and payloads that can be selected and copied.
 */
import { describe, expect, it } from "vitest";
import { deliveriesOf, hasChromium, useHarness, userRegistered } from "./harness";

describe.runIf(hasChromium)("the Deliveries and Events lists", () => {
  const h = useHarness();

  it("takes each time filter in one tab stop, and applies the filters on Enter in a select or a time", async () => {
    const page = await h.page();
    await h.open(page, "#/deliveries");
    await page.getByLabel("Created since").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("filter-until");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Apply");

    await page.getByLabel("Status").selectOption("failed");
    await page.getByLabel("Status").press("Enter");
    await page.locator('main[aria-busy="false"][data-route="#/deliveries?status=failed"]').waitFor();

    await page.getByLabel("Created since").fill("2026-01-02 03:04");
    await page.getByLabel("Created since").press("Enter");
    const since = new Date(2026, 0, 2, 3, 4).toISOString();
    await page.locator(`main[aria-busy="false"][data-route="#/deliveries?status=failed&since=${encodeURIComponent(since)}"]`).waitFor();
    expect(await page.getByLabel("Created since").inputValue()).toBe("2026-01-02 03:04");
  });

  it("trims an event ID, and says so when a value cannot be one", async () => {
    const channel = await h.channel();
    const { ID: eventId } = await (await h.postEvent(userRegistered(6001))).json();
    await deliveriesOf(h, channel.ID, "succeeded", 1);
    const page = await h.page();
    await h.open(page, "#/deliveries");
    await page.getByLabel("Event ID").fill("not-an-id");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator('[data-error-for="event_id"]').textContent()).toContain("is not an event ID");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("filter-event_id");
    expect(new URL(page.url()).hash).toBe("#/deliveries");

    await page.getByLabel("Event ID").fill(`  ${eventId}\n`);
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator(`main[aria-busy="false"][data-route="#/deliveries?event_id=${eventId}"]`).waitFor();
    await expect.poll(() => page.locator("tr[data-delivery]").count()).toBe(1);
  });

  it("shows an event's ID beside its row, selectable without opening it, with copy buttons for it and the payload", async () => {
    const { ID: eventId } = await (await h.postEvent(userRegistered(6002))).json();
    const page = await h.page();
    await h.open(page, "#/events");
    const row = page.locator(`[data-event="${eventId}"]`);
    const id = row.locator("code.id");
    expect(await id.textContent()).toBe(eventId);
    // Selecting the ID (a triple click) leaves the row closed.
    await id.click({ clickCount: 3 });
    expect(await page.evaluate(() => window.getSelection()?.toString().trim())).toBe(eventId);
    expect(await row.getByRole("button", { name: /UserRegistered/ }).getAttribute("aria-expanded")).toBe("false");
    await row.getByRole("button", { name: "Copy event ID" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(eventId);

    await row.getByRole("button", { name: /UserRegistered/ }).click();
    await row.getByRole("button", { name: "Copy payload" }).click();
    await expect.poll(async () => JSON.parse(await page.evaluate(() => navigator.clipboard.readText())).Message.ID).toBe(6002);
  });
});

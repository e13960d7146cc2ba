/**
 * Moving between views: where a view opens (its top, focus on its heading), an address
 * that names no view, unsaved changes, what create and delete say, and how times read.
 */
import { describe, expect, it } from "vitest";
import { deliveriesOf, hasChromium, useHarness, userRegistered } from "./harness";

describe.runIf(hasChromium)("moving between views", () => {
  const h = useHarness();

  for (const width of [1280, 390]) {
    it(`opens each view at its top with focus on its heading, not where the last one was scrolled (${width} px)`, async () => {
      const channel = await h.channel({ Name: `Scrolled ${width}` });
      for (let n = 0; n < 25; n++) await h.postEvent(userRegistered(width * 100 + n));
      await deliveriesOf(h, channel.ID, "succeeded", 25);
      const page = await h.page({ width });
      await h.open(page, "#/deliveries");
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(300);
      await page
        .getByRole("link", { name: `Scrolled ${width}` })
        .last()
        .click();
      await page.locator(`main[aria-busy="false"][data-route="#/channels/${channel.ID}"]`).waitFor();
      expect(await page.evaluate(() => window.scrollY)).toBe(0);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`Scrolled ${width}`);
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("H1");

      // The edit form too, on a phone as on a desktop.
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.getByRole("link", { name: "Edit" }).click();
      await page.locator(`main[aria-busy="false"][data-route="#/channels/${channel.ID}/edit"]`).waitFor();
      expect(await page.evaluate(() => window.scrollY)).toBe(0);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`Edit Scrolled ${width}`);
    });
  }

  it("says that an address names no view, instead of showing the dashboard", async () => {
    const page = await h.page();
    await h.open(page, "#/nope");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("This page does not exist");
    expect(await page.getByRole("heading", { name: "Dashboard" }).count()).toBe(0);
    expect(new URL(page.url()).hash).toBe("#/nope");
  });

  it("asks before leaving the edit form with unsaved changes, and stays when told to", async () => {
    const channel = await h.channel({ Name: "Unsaved" });
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}/edit`);
    // Unchanged: leaving does not ask.
    await page.getByRole("link", { name: "Channels" }).click();
    await page.locator('main[aria-busy="false"][data-route="#/channels"]').waitFor();

    await h.open(page, `#/channels/${channel.ID}/edit`);
    await page.getByLabel("Name", { exact: true }).fill("Unsaved, changed");
    await page.getByRole("link", { name: "Channels" }).click();
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.textContent()).toContain("Your changes are not saved");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/channels/${channel.ID}/edit`);
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("Unsaved, changed");

    await page.getByRole("link", { name: "Channels" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Leave without saving" }).click();
    await page.locator('main[aria-busy="false"][data-route="#/channels"]').waitFor();
    expect((await h.json("GET", `/webhooks/${channel.ID}`)).Name).toBe("Unsaved");
  });

  it("confirms a create and a delete on the page they lead to, and the delete says what happens to history", async () => {
    const page = await h.page();
    await h.open(page, "#/channels/new");
    await page.getByLabel("Name", { exact: true }).fill("Said");
    await page.getByLabel("Target URL").fill(h.receiver.url);
    await page.getByLabel("UserRegistered").check();
    await page.getByRole("button", { name: "Create channel" }).click();
    await page.getByRole("heading", { name: "Said", level: 1 }).waitFor();
    await expect.poll(() => page.locator("#toast").textContent()).toBe("Channel “Said” created.");

    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("button", { name: "Delete channel" }).click();
    const ask = await page.getByRole("dialog").textContent();
    expect(ask).toContain("are cancelled");
    expect(ask).toContain("history stays");
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.locator('main[aria-busy="false"][data-route="#/channels"]').waitFor();
    await expect.poll(() => page.locator("#toast").textContent()).toBe("Channel “Said” deleted.");
  });

  it("shows every time in one format that names its time zone, and takes times in the same format", async () => {
    const channel = await h.channel();
    await h.postEvent(userRegistered(4242));
    await deliveriesOf(h, channel.ID, "succeeded", 1);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    const shown = await page.locator('tr[data-delivery] td[data-label="Created"] time').textContent();
    expect(shown).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} (UTC|GMT[+-]\d+|[A-Z]{2,5})$/);
    const zone = shown!.split(" ")[2];
    // The inputs take the same format, and name the zone.
    expect(await page.getByLabel("Recover failed since").inputValue()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(await page.locator("#recover-since-hint").textContent()).toContain(zone);
    await h.open(page, "#/deliveries");
    expect(await page.locator("#filter-since-hint").textContent()).toBe(`YYYY-MM-DD HH:MM, ${zone}`);
  });

  it("names the portal's form as the portal does (a webhook channel)", async () => {
    const page = await h.page();
    await h.open(page, "#/connect");
    const text = await page.locator("main").textContent();
    expect(text).toContain("create a webhook channel");
    expect(text).not.toContain("Add webhook");
  });
});

/**
 * The channel form: filter problems said where they are, a misspelt path warned of, and
 * flow control (rate limit, pause, delivery order) edited beside each other.
 */
import { describe, expect, it } from "vitest";
import { hasChromium, useHarness, userRegistered } from "./harness";

describe.runIf(hasChromium)("the channel form", () => {
  const h = useHarness();

  it("names the path of a filter problem the API finds", async () => {
    const channel = await h.channel();
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}/edit`);
    await page.getByLabel("Filter (JSON)").fill('{"$or": [{"Message.OrgID": 1}, {"Message.OrgID": {"$gt": "x"}}]}');
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator('[data-error-for="Filter"]').textContent()).toContain("Filter.$or.1.Message.OrgID: $gt needs a number");
    expect(await page.getByLabel("Filter (JSON)").getAttribute("aria-invalid")).toBe("true");
  });

  it("says where JSON that does not parse goes wrong, and puts focus there", async () => {
    const channel = await h.channel();
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}/edit`);
    await page.getByLabel("Filter (JSON)").fill('{\n  "Message.OrgID" 7\n}');
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator('[data-error-for="Filter"]').textContent()).toMatch(/is not valid JSON at line 2, column \d+/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("field-Filter");
    // The caret is at the problem: line 2, after the key.
    const caret = await page.evaluate(() => (document.activeElement as HTMLTextAreaElement).selectionStart);
    expect(caret).toBeGreaterThan('{\n  "Message.OrgID"'.length - 1);
    expect(caret).toBeLessThanOrEqual('{\n  "Message.OrgID" 7'.length);
  });

  it("warns of a filter path that none of the recent events of the subscribed types has", async () => {
    expect((await h.postEvent(userRegistered(5001))).status).toBe(202);
    const channel = await h.channel();
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}/edit`);
    const filter = page.getByLabel("Filter (JSON)");
    await filter.fill('{"Mesage.OrgID": 1}');
    await filter.blur();
    await expect.poll(() => page.locator("#warning-Filter").textContent()).toContain("“Mesage.OrgID”");
    // Spelt right: no warning.
    await filter.fill('{"Message": {"OrgID": {"$in": [1, 2]}}}');
    await filter.blur();
    await expect.poll(() => page.locator("#warning-Filter").textContent()).toBe("");
  });

  it("edits the delivery order beside the rate limit and the pause, under Flow control", async () => {
    const channel = await h.channel();
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}/edit`);
    const group = page.getByRole("group", { name: "Flow control" });
    expect(await group.getByLabel("Rate limit (requests per second)").count()).toBe(1);
    expect(await group.getByLabel("Paused").count()).toBe(1);
    // The key field shows only for "per value".
    expect(await group.getByLabel("Order key (a dotted path of the payload)").isVisible()).toBe(false);
    await group.getByLabel("Delivery order").selectOption("key");
    await group.getByLabel("Order key (a dotted path of the payload)").fill("Message ID");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator('[data-error-for="Ordering.Key"]').textContent()).toContain("dotted path");

    await group.getByLabel("Order key (a dotted path of the payload)").fill("Message.ID");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator(`main[aria-busy="false"][data-route="#/channels/${channel.ID}"]`).waitFor();
    expect((await h.json("GET", `/webhooks/${channel.ID}`)).Ordering).toEqual({ Key: "Message.ID" });
    expect(await page.locator('[data-part="state"]').textContent()).toContain("in order per Message.ID");

    await h.open(page, `#/channels/${channel.ID}/edit`);
    expect(await page.getByLabel("Delivery order").inputValue()).toBe("key");
    await page.getByLabel("Delivery order").selectOption("channel");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator(`main[aria-busy="false"][data-route="#/channels/${channel.ID}"]`).waitFor();
    expect((await h.json("GET", `/webhooks/${channel.ID}`)).Ordering).toEqual({ Key: null });
  });
});

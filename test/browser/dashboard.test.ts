/**
 * The dashboard: an old error of a channel that works again reads as recovered, the page
 * refreshes (by itself and on demand), and the chart says its counts and what a bar holds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { deliveriesOf, hasChromium, seed, useHarness, userRegistered } from "./harness";

describe.runIf(hasChromium)("the dashboard", () => {
  const h = useHarness();
  afterEach(() => {
    h.receiver.status = 200;
  });

  it("says a channel whose failures were retried successfully recovered, and keeps red for one still failing", async () => {
    const recovered = await h.channel({ Name: "Came back" });
    h.receiver.status = 500;
    await h.postEvent(userRegistered(7001));
    await deliveriesOf(h, recovered.ID, "retrying", 1);
    h.receiver.status = 200;
    const [delivery] = await h.json("GET", `/webhooks/${recovered.ID}/deliveries`);
    await h.admin("POST", `/deliveries/${delivery.ID}/redeliver`);
    await deliveriesOf(h, recovered.ID, "succeeded", 1);
    const failing = await h.channel({ Name: "Still down", URL: "http://127.0.0.1:9/down", Events: ["UserAccountActivated"] });
    const event = JSON.parse(userRegistered(7002));
    await h.postEvent(JSON.stringify({ ...event, Event: "UserAccountActivated" }));
    await deliveriesOf(h, failing.ID, "retrying", 1);

    const page = await h.page();
    await h.open(page, "#/");
    const cameBack = page.locator(`tr[data-webhook="${recovered.ID}"] td[data-label="Last error"]`);
    expect(await cameBack.textContent()).toMatch(/^recovered .*500/);
    expect(await cameBack.getAttribute("class")).not.toContain("error-text");
    const down = page.locator(`tr[data-webhook="${failing.ID}"] td[data-label="Last error"]`);
    expect(await down.getAttribute("class")).toContain("error-text");
    expect(await down.textContent()).not.toContain("recovered");
  });

  it("refreshes on its Refresh button, keeping focus on it, and by itself every 30 s", async () => {
    // Its own event type: no other channel of this file gets these.
    const channel = await h.channel({ Name: "Counted", Events: ["PasswordReset"] });
    const reset = (id: number) => JSON.stringify({ ...JSON.parse(seed[3]!.body), Message: { ...JSON.parse(seed[3]!.body).Message, ID: id } });
    const page = await h.page();
    await page.clock.install();
    await h.open(page, "#/");
    const count = () => page.locator('[aria-label="Last 24 hours"] [data-tile="tile-retrying"] dd').textContent();
    const before = Number(await count());
    h.receiver.status = 500;
    expect((await h.postEvent(reset(7101))).status).toBe(202);
    await deliveriesOf(h, channel.ID, "retrying", 1);
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect.poll(async () => Number(await count())).toBe(before + 1);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Refresh");

    expect((await h.postEvent(reset(7102))).status).toBe(202);
    await deliveriesOf(h, channel.ID, "retrying", 2);
    const refreshes = Number(await page.locator("main > div").getAttribute("data-refreshes"));
    await page.clock.runFor(30_000);
    await expect.poll(async () => Number(await page.locator("main > div").getAttribute("data-refreshes"))).toBe(refreshes + 1);
    await expect.poll(async () => Number(await count())).toBe(before + 2);
  });

  it("fits the channels' table in its card at 1280 px, long errors shortened to open whole, and shows each channel as a card at 390 px", async () => {
    // What a new user met: long names, an error that recovered, and one too long for a table.
    const cameBack = await h.channel({
      Name: "Customer relationship management, production (EU region)",
      URL: "http://127.0.0.1:9/down",
      Events: ["UserAccountDeactivated"],
    });
    const longError = `the partner's gateway refused this payload because ${"its schema version is not one it knows; ".repeat(5)}see their changelog`;
    const broken = await h.channel({
      Name: "Billing and invoicing, with a name as long as a sentence",
      Events: ["UserAccountDeactivated"],
      Transform: { Body: `$error(${JSON.stringify(longError)})` },
    });
    const event = JSON.parse(userRegistered(7300));
    await h.postEvent(JSON.stringify({ ...event, Event: "UserAccountDeactivated" }));
    await deliveriesOf(h, cameBack.ID, "retrying", 1);
    await deliveriesOf(h, broken.ID, "failed", 1);
    await h.admin("PATCH", `/webhooks/${cameBack.ID}`, { URL: h.receiver.url });
    const [delivery] = await h.json("GET", `/webhooks/${cameBack.ID}/deliveries`);
    await h.admin("POST", `/deliveries/${delivery.ID}/redeliver`);
    await deliveriesOf(h, cameBack.ID, "succeeded", 1);

    const page = await h.page({ width: 1280 });
    await h.open(page, "#/");
    const table = page.getByRole("table", { name: "Channel health" });
    const wrap = table.locator("xpath=..");
    const recovered = page.locator(`tr[data-webhook="${cameBack.ID}"] td[data-label="Last error"]`);
    await expect.poll(() => recovered.textContent()).toMatch(/^recovered connection: /);
    // No sideways scroll: every column is inside the box, the last one included.
    const scrollsSideways = () => wrap.evaluate((el) => el.scrollWidth > el.clientWidth);
    expect(await scrollsSideways()).toBe(false);
    const box = (await wrap.boundingBox())!;
    const lastFailed = (await page.getByRole("columnheader", { name: "Last failed" }).boundingBox())!;
    expect(lastFailed.x + lastFailed.width).toBeLessThanOrEqual(box.x + box.width + 0.5);
    // Nothing cut inside a cell: the recovered error wraps rather than overflowing.
    const clipped = () =>
      table
        .locator("td")
        .evaluateAll((cells) => cells.filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => `${td.dataset.label}: ${td.textContent}`));
    expect(await clipped()).toEqual([]);
    // A long name is not squeezed beside its sparkline: its column is a quarter of the table.
    const nameCell = page.locator(`tr[data-webhook="${cameBack.ID}"] td[data-label="Channel"]`);
    expect((await nameCell.boundingBox())!.width).toBeGreaterThanOrEqual(0.25 * (await table.boundingBox())!.width);

    // The long error shows its start; its whole text opens, by keyboard too, and is its title.
    const long = page.locator(`tr[data-webhook="${broken.ID}"] td[data-label="Last error"] summary`);
    const start = long.locator(".error-start");
    const less = long.locator(".show-less");
    expect(await start.textContent()).toMatch(/^Transform: .+…$/);
    expect((await start.textContent())!.length).toBeLessThan(160);
    expect([await start.isVisible(), await less.isVisible()]).toEqual([true, false]);
    expect(await long.getAttribute("title")).toContain(longError);
    const whole = page.locator(`tr[data-webhook="${broken.ID}"] .whole-error`);
    expect(await whole.isVisible()).toBe(false);
    await long.focus();
    await page.keyboard.press("Enter");
    await whole.waitFor({ state: "visible" });
    expect(await whole.textContent()).toContain(longError);
    expect([await start.isVisible(), await less.isVisible()]).toEqual([false, true]);
    expect(await less.textContent()).toBe("Show less");
    expect(await scrollsSideways()).toBe(false);
    // It stays open, and focused, through a refresh.
    const refreshes = Number(await page.locator("main > div").getAttribute("data-refreshes"));
    await page.getByRole("button", { name: "Refresh" }).click();
    await long.focus();
    await expect.poll(async () => Number(await page.locator("main > div").getAttribute("data-refreshes"))).toBeGreaterThan(refreshes);
    await whole.waitFor({ state: "visible" });
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("SUMMARY");

    // On a phone: a card per channel, each cell labelled, nothing clipped or sideways.
    const phone = await h.page({ width: 390 });
    await h.open(phone, "#/");
    const row = phone.locator(`tr[data-webhook="${cameBack.ID}"]`);
    expect(await row.evaluate((tr) => getComputedStyle(tr).display)).toBe("block");
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const phoneTable = phone.getByRole("table", { name: "Channel health" });
    const phoneWrap = phoneTable.locator("xpath=..");
    expect(await phoneWrap.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(
      await phoneTable
        .locator("td")
        .evaluateAll((cells) => cells.filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => `${td.dataset.label}: ${td.textContent}`)),
    ).toEqual([]);
    // The recovered error is read whole inside its card: its text ends inside the cell.
    const phoneError = phone.locator(`tr[data-webhook="${cameBack.ID}"] td[data-label="Last error"]`);
    expect(
      await phoneError.evaluate((td) => {
        const range = document.createRange();
        range.selectNodeContents(td);
        return range.getBoundingClientRect().right - td.getBoundingClientRect().right;
      }),
    ).toBeLessThanOrEqual(1);
  });

  it("labels the chart's counts and times, and says what a bar holds on hover and on focus", async () => {
    const channel = await h.channel();
    for (let n = 0; n < 3; n++) await h.postEvent(userRegistered(7200 + n));
    await deliveriesOf(h, channel.ID, "succeeded", 3);
    const page = await h.page();
    await h.open(page, "#/");
    const y = await page.locator(".chart-y span").allTextContents();
    expect(y.at(-1)).toBe("0");
    expect(Number(y[0])).toBeGreaterThanOrEqual(3);
    // Times along the bottom: more than the two ends.
    expect(await page.locator(".chart-x span").count()).toBe(5);

    // Focus the chart: the newest bar (where the 3 deliveries are) is described.
    const readout = page.locator(".chart-readout");
    await page.locator(".chart").focus();
    await expect.poll(() => readout.textContent()).toMatch(/\d+ succeeded/);
    const newest = await readout.textContent();
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => readout.textContent()).not.toBe(newest);
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => readout.textContent()).toBe(newest);
    await page.locator(".chart .bar-slot").last().hover();
    await expect.poll(() => readout.textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} .+: .*succeeded/);
  });
});

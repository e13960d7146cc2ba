/**
 * The channel page: its first screen (state and actions), what refreshes on it, the IDs
 * it shows, its deliveries' pages in the address bar, and an ordered channel's lanes.
 */
import { describe, expect, it } from "vitest";
import { deliveriesOf, hasChromium, seed, useHarness, userRegistered } from "./harness";

describe.runIf(hasChromium)("the channel page", () => {
  const h = useHarness();

  /** A channel with one delivery that succeeded (event `seq`), open on its page with that delivery's attempts shown. */
  async function openAttempts(seq: number, fields: Record<string, unknown> = {}) {
    const channel = await h.channel(fields);
    await h.postEvent(userRegistered(seq));
    await deliveriesOf(h, channel.ID, "succeeded", 1);
    const [delivery] = await h.json("GET", `/webhooks/${channel.ID}/deliveries`);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    await page.locator(`tr[data-delivery="${delivery.ID}"]`).getByRole("button", { name: "Attempts" }).click();
    return { channel, delivery, page, attempts: page.locator(`tr[data-attempts-for="${delivery.ID}"]`) };
  }

  it("keeps the pause banner's count current with the table: held deliveries show in both without a reload", async () => {
    const channel = await h.channel({ Paused: true });
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    await expect.poll(() => page.locator(".notice").textContent()).toContain("0 deliveries held");
    for (let n = 1; n <= 3; n++) expect((await h.postEvent(userRegistered(1000 + n))).status).toBe(202);
    await expect.poll(() => page.locator('tr[data-status="held"]').count()).toBe(3);
    // The banner follows the table, with no reload in between.
    await expect.poll(() => page.locator(".notice").textContent()).toContain("3 deliveries held");
  });

  it("says a failed test event once, with no literal null after it", async () => {
    const channel = await h.channel({ URL: "http://127.0.0.1:9/down" });
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    await page.getByRole("button", { name: "Send test event" }).click();
    const result = page.locator(".test-event-result");
    await expect.poll(() => result.textContent()).toMatch(/^Failed: .+\(\d+ ms\)$/);
    expect(await result.textContent()).not.toContain("null");
  });

  it("shows its first screen as state and actions, its ID with a copy button, and the rest in groups", async () => {
    const channel = await h.channel({ Name: "First screen" });
    const page = await h.page({ width: 390 });
    await h.open(page, `#/channels/${channel.ID}`);
    // On a phone too, the actions and the state are on the first screen.
    for (const name of ["Pause", "Disable", "Edit"]) {
      const box = await page.getByRole(name === "Edit" ? "link" : "button", { name, exact: true }).boundingBox();
      expect(box!.y + box!.height, name).toBeLessThanOrEqual(800);
    }
    expect((await page.locator('[data-part="state"]').boundingBox())!.y).toBeLessThan(800);
    expect(await page.locator('[data-part="state"]').textContent()).toContain("enabled");
    expect(await page.getByRole("heading", { level: 2 }).allTextContents()).toEqual(
      expect.arrayContaining(["Deliveries", "Test", "Recover and replay", "Settings and secret"]),
    );
    // The ID is on the page, selectable, and copies.
    expect(await page.locator("main code.id").first().textContent()).toBe(channel.ID);
    await page.getByRole("button", { name: "Copy channel ID" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(channel.ID);
    await expect.poll(() => page.locator("#toast").textContent()).toBe("Channel ID copied.");
  });

  it("keeps its signing secret masked until asked: Copy copies it unseen, Reveal shows it, Hide masks it again", async () => {
    const channel = await h.channel();
    const { Secret } = await h.json("GET", `/webhooks/${channel.ID}/secret`);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    const value = page.locator("#secret-value");
    await page.getByRole("button", { name: "Copy signing secret" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(Secret);
    expect(await value.textContent()).toBe("whsec_••••••••••••••••");
    expect(await page.content()).not.toContain(Secret);
    await page.getByRole("button", { name: "Reveal" }).click();
    await expect.poll(() => value.textContent()).toBe(Secret);
    await page.getByRole("button", { name: "Hide" }).click();
    await expect.poll(() => value.textContent()).toBe("whsec_••••••••••••••••");
  });

  it("shows a delivery's ID and its event's, each with a copy button, in its attempts, which keep focus through refreshes", async () => {
    const { delivery, page, attempts } = await openAttempts(2001);
    await expect.poll(() => attempts.locator("code.id").allTextContents()).toEqual([delivery.ID, delivery.EventID]);
    await attempts.getByRole("button", { name: "Copy delivery ID" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(delivery.ID);
    // The open attempts survive the page's refreshes: focus stays on the button it is on.
    const table = page.locator(".delivery-table");
    const before = Number(await table.getAttribute("data-refreshes"));
    await expect.poll(async () => Number(await table.getAttribute("data-refreshes"))).toBeGreaterThan(before + 1);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Copy delivery ID");
  });

  it("keeps focus in an open delivery's attempts as new deliveries push it down, and moves it to the table's heading, not the body, when it leaves the page", async () => {
    const { channel, delivery, page, attempts } = await openAttempts(4000);
    const copy = attempts.getByRole("button", { name: "Copy delivery ID" });
    await copy.focus();
    const focus = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return {
          tag: el?.tagName,
          label: el?.getAttribute("aria-label"),
          text: el?.textContent?.slice(0, 60),
          row: el?.closest("tr")?.dataset.attemptsFor ?? null,
        };
      });

    // New deliveries come above it: it moves down the page (off screen), and keeps focus.
    for (let n = 1; n <= 30; n++) expect((await h.postEvent(userRegistered(4000 + n))).status).toBe(202);
    await deliveriesOf(h, channel.ID, "succeeded", 31);
    await expect.poll(() => page.locator("tr[data-delivery]").count()).toBe(31);
    expect(await focus()).toEqual({ tag: "BUTTON", label: "Copy delivery ID", text: "Copy", row: delivery.ID });

    // Twenty more: 51, and the page holds the newest 50. Its row goes; focus goes to the
    // deliveries' heading, and the page says why.
    for (let n = 31; n <= 50; n++) expect((await h.postEvent(userRegistered(4000 + n))).status).toBe(202);
    await deliveriesOf(h, channel.ID, "succeeded", 51);
    await page.locator(`tr[data-delivery="${delivery.ID}"]`).waitFor({ state: "detached" });
    expect(await focus()).toMatchObject({ tag: "H2", text: "Deliveries" });
    expect(await page.locator("#toast").textContent()).toBe("The delivery you were on is no longer on this page.");

    // The pager, made again by every refresh, keeps focus too.
    await page.getByRole("link", { name: "Next →" }).focus();
    const table = page.locator(".delivery-table");
    const before = Number(await table.getAttribute("data-refreshes"));
    await expect.poll(async () => Number(await table.getAttribute("data-refreshes"))).toBeGreaterThan(before + 1);
    expect(await focus()).toMatchObject({ tag: "A", text: "Next →" });
  });

  it("says a rate-limited channel's deliveries that have not started wait their turn, until they are sent", async () => {
    // Its own event type: the other tests' events do not queue behind its pace.
    const channel = await h.channel({ Name: "Paced", RateLimit: 1, Events: ["AccessRequestCreated"] });
    const sample = JSON.parse(seed.find((s) => s.type === "AccessRequestCreated")!.body);
    const accessRequest = (n: number) => JSON.stringify({ ...sample, Message: { ...sample.Message, ID: n } });
    // A backlog of a dozen at one a second: the newest waits about 11 s for its start.
    for (let n = 0; n < 12; n++) expect((await h.postEvent(accessRequest(5000 + n))).status).toBe(202);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    await expect.poll(() => page.locator("tr[data-delivery]").count()).toBe(12);
    const newest = page.locator("tr[data-delivery]").first();
    expect(await newest.getAttribute("data-status")).toBe("pending");
    expect(await newest.locator('td[data-label="Event type"]').textContent()).toBe("AccessRequestCreated");
    expect(await newest.locator('td[data-label="Attempts"]').textContent()).toBe("0");
    expect(await newest.locator('td[data-label="Status"]').textContent()).toBe("pendingwaiting its turn, at most 1 a second");
    expect(await newest.locator('td[data-label="Next attempt"]').textContent()).toMatch(/^(in its turn|in \d+ s)$/);
    await newest.getByRole("button", { name: "Attempts" }).click();
    const id = await newest.getAttribute("data-delivery");
    await expect.poll(() => page.locator(`tr[data-attempts-for="${id}"]`).textContent()).toContain("No attempts yet: waiting its turn, at most 1 a second.");

    // Sent in its turn: the note goes with the wait.
    await expect.poll(() => newest.getAttribute("data-status"), { timeout: 40_000 }).toBe("succeeded");
    await expect.poll(() => newest.locator(".waiting").count()).toBe(0);
    expect(await newest.locator('td[data-label="Next attempt"]').textContent()).toBe("");
    await expect.poll(() => page.locator(`tr[data-attempts-for="${id}"]`).textContent()).not.toContain("No attempts yet");
    // All of them sent (no backlog left for the next test's deliveries to queue behind), none said to wait.
    await deliveriesOf(h, channel.ID, "succeeded", 12, 40_000);
    await expect.poll(() => page.locator(".waiting").count()).toBe(0);
  });

  it('keeps an attempt\'s open "Sent" and the focus in it when the delivery changes (a redeliver adds an attempt)', async () => {
    const { delivery, page, attempts } = await openAttempts(2101, { Transform: { Body: `{"email": Message.Email}` } });
    await attempts.locator("summary", { hasText: "Sent" }).click();
    await attempts.getByRole("button", { name: "Copy request body" }).focus();
    // A second attempt: the row is made again, with both attempts.
    expect((await h.admin("POST", `/deliveries/${delivery.ID}/redeliver`)).status).toBe(202);
    await expect.poll(() => attempts.locator("table.attempts tbody tr").count(), { timeout: 15_000 }).toBe(2);
    expect(await attempts.locator('details[data-keep-open="sent-1"]').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-keep-focus"))).toBe("copy-request-1");
  });

  it("keeps the page of its deliveries, and their status filter, in the address bar", async () => {
    const channel = await h.channel();
    // 51 deliveries: two pages of 50.
    for (let n = 0; n < 51; n++) expect((await h.postEvent(userRegistered(3000 + n))).status).toBe(202);
    await deliveriesOf(h, channel.ID, "succeeded", 51);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    await page.getByRole("link", { name: "Next →" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 2" }).waitFor();
    expect(new URL(page.url()).hash).toMatch(new RegExp(`^#/channels/${channel.ID}\\?cursor=[A-Za-z0-9_-]+$`));
    expect(await page.locator("tr[data-delivery]").count()).toBe(1);
    // A reload shows the same page; Previous goes back to the first.
    await page.reload();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 2" }).waitFor();
    await page.getByRole("link", { name: "← Previous" }).click();
    await page.locator('main[aria-busy="false"] .pager', { hasText: "Page 1" }).waitFor();
    expect(await page.locator("tr[data-delivery]").count()).toBe(50);
    // The status filter is in the address too, and keeps focus when it applies.
    await page.getByLabel("Status").focus();
    await page.getByLabel("Status").selectOption("failed");
    await page.locator(`main[aria-busy="false"][data-route="#/channels/${channel.ID}?status=failed"]`).waitFor();
    expect(await page.locator("tr[data-delivery]").count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("status-filter");
  });

  it("shows an ordered channel's order, and its lanes: which delivery heads each, since when, how many wait", async () => {
    const channel = await h.channel({ Name: "Ordered", URL: "http://127.0.0.1:9/down", Ordering: { Key: "Message.ID" } });
    for (let n = 0; n < 3; n++) expect((await h.postEvent(userRegistered(77, { Email: `lane${n}@example.com` }))).status).toBe(202);
    const page = await h.page();
    await h.open(page, `#/channels/${channel.ID}`);
    expect(await page.locator('[data-part="state"]').textContent()).toContain("in order per Message.ID");
    const lane = page.locator('tr[data-lane="77"]');
    await lane.waitFor({ timeout: 15_000 });
    await expect.poll(() => lane.locator('td[data-label="Waiting behind it"]').textContent()).toBe("2");
    expect(await lane.locator('td[data-label="Lane"]').textContent()).toBe("Message.ID = 77");
    const [head] = await h.json("GET", `/webhooks/${channel.ID}/lanes`);
    expect(await lane.locator('td[data-label="Head delivery"] code.id').textContent()).toBe(head.Head.ID);
    expect(await lane.locator('td[data-label="Head created"] time').getAttribute("datetime")).toBe(head.Since);
    // The head links to the delivery.
    await lane.getByRole("link", { name: "UserRegistered" }).click();
    await page.locator('main[aria-busy="false"][data-route^="#/deliveries?"]').waitFor();
    await expect.poll(() => page.locator("tr[data-delivery]").count()).toBe(1);
    expect(await page.locator("tr[data-delivery]").getAttribute("data-delivery")).toBe(head.Head.ID);
  });
});

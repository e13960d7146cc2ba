/**
 * Every view, at 1280 and 390 px: no sideways overflow, no serious or critical axe
 * finding, and every control in it reachable with Tab alone. With UPDATE_SCREENSHOTS=1 it
 * refreshes the README's pictures (docs/*.png); with SCREENSHOTS_DIR=dir it writes a
 * picture of every view at both widths there, to look at.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { axePath, deliveriesOf, type Harness, hasChromium, root, startHarness, userRegistered } from "./harness";

/** The README's pictures: which view, at which width. */
const pictures: Record<string, { view: string; width: number }> = {
  "dashboard.png": { view: "dashboard", width: 1280 },
  "channel-page.png": { view: "ordered channel", width: 1280 },
  "phone.png": { view: "deliveries", width: 390 },
};

describe.runIf(hasChromium)("every view, at 1280 and 390 px", () => {
  let h: Harness;
  const views: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness();
    // Something in every view: deliveries that succeeded, one that failed, an ordered
    // channel with waiting lanes, a paused one holding, events.
    const crm = await h.channel({ Name: "CRM", Events: ["UserRegistered", "AccessRequestCreated"] });
    const ordered = await h.channel({ Name: "Billing", URL: "http://127.0.0.1:9/billing", Ordering: { Key: "Message.ID" } });
    const paused = await h.channel({ Name: "Paused ITSM", Paused: true });
    for (let n = 0; n < 3; n++) await h.postEvent(userRegistered(100 + (n % 2), { Email: `a${n}@example.com` }));
    await deliveriesOf(h, crm.ID, "succeeded", 3);
    h.receiver.status = 410;
    await h.postEvent(userRegistered(200));
    await deliveriesOf(h, crm.ID, "failed", 1);
    h.receiver.status = 200;
    await h.admin("PATCH", `/webhooks/${crm.ID}`, { Enabled: true });
    await h.postEvent(userRegistered(201));
    await deliveriesOf(h, crm.ID, "succeeded", 4);
    Object.assign(views, {
      dashboard: "#/",
      "dashboard 7 days": "#/?range=7d",
      channels: "#/channels",
      "new channel": "#/channels/new",
      channel: `#/channels/${crm.ID}`,
      "ordered channel": `#/channels/${ordered.ID}`,
      "paused channel": `#/channels/${paused.ID}`,
      "edit channel": `#/channels/${crm.ID}/edit`,
      "unknown channel": "#/channels/00000000-0000-0000-0000-000000000000",
      "unknown page": "#/nope",
      deliveries: "#/deliveries",
      "failed deliveries": "#/deliveries?status=failed",
      events: "#/events",
      connect: "#/connect",
      // Last: signing out ends the session the others use.
      "sign-in": "sign-in",
    });
  });
  afterAll(() => h?.stop());
  afterEach(() => {
    expect(h.pageErrors).toEqual([]);
  });

  /** Opens a view (and, for some, the state worth checking too: open attempts, an open event, lanes). */
  async function show(page: Page, name: string) {
    const hash = views[name]!;
    if (hash === "sign-in") {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.locator('main[aria-busy="false"][data-route="sign-in"]').waitFor();
      return;
    }
    await h.open(page, hash);
    if (name === "channel" || name === "failed deliveries") {
      await page.locator("tr[data-delivery]").first().getByRole("button", { name: "Attempts" }).click();
      await page.locator("tr.attempts-row table, tr.attempts-row p").first().waitFor();
    }
    if (name === "events") {
      await page.locator(".event-toggle").first().click();
      await page.locator(".event pre.payload").first().waitFor();
    }
    if (name === "ordered channel") await page.locator("tr[data-lane]").first().waitFor({ timeout: 15_000 });
    if (name === "paused channel") await page.locator(".notice").waitFor();
  }

  /**
   * Tab from the view's heading until focus leaves main: every visible control in it is
   * reached. A control is known by what it is and says (and which of its namesakes it is),
   * so a part of the page that a refresh makes again, the same, still counts as reached.
   */
  async function tabThrough(page: Page) {
    await page.evaluate(() => {
      const w = window as any;
      w.tabControls = () =>
        Array.from(document.querySelector("main")!.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea, summary, [tabindex]")).filter(
          (el) => el.tabIndex >= 0 && !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden",
        );
      w.tabName = (el: HTMLElement, all: HTMLElement[]) => {
        const what = (e: HTMLElement) =>
          `${e.tagName} ${e.getAttribute("aria-label") ?? e.id ?? ""} ${e.getAttribute("href") ?? ""} ${(e.textContent ?? "").trim().slice(0, 60)}`;
        const name = what(el);
        return `${name} #${all.filter((e) => what(e) === name).indexOf(el)}`;
      };
      const start = document.querySelector<HTMLElement>("main h1") ?? document.querySelector<HTMLElement>("main");
      start!.tabIndex = -1;
      start!.focus();
    });
    const controls: string[] = await page.evaluate(() => {
      const w = window as any;
      const all = w.tabControls();
      return all.map((el: HTMLElement) => w.tabName(el, all));
    });
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 5; i++) {
      await page.keyboard.press("Tab");
      const at = await page.evaluate(() => {
        const w = window as any;
        const el = document.activeElement as HTMLElement | null;
        if (!el || !document.querySelector("main")!.contains(el)) return null;
        const box = el.getBoundingClientRect();
        return { name: w.tabName(el, w.tabControls()) as string, visible: box.width > 0 && box.height > 0, what: el.outerHTML.slice(0, 80) };
      });
      if (!at) break;
      expect(at.visible, `focus on something invisible: ${at.what}`).toBe(true);
      reached.add(at.name);
    }
    return { controls: controls.length, missed: controls.filter((name) => !reached.has(name)) };
  }

  for (const width of [1280, 390]) {
    it(`fits, passes axe and works by keyboard on every view at ${width} px`, async () => {
      // axe is injected into the page: a context that lets it past the CSP.
      const page = await h.page({ width, bypassCSP: true });
      await page.setViewportSize({ width, height: 844 });
      const problems: string[] = [];
      for (const name of Object.keys(views)) {
        await show(page, name);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
        if (overflow > width) problems.push(`${name}: ${overflow} px wide`);
        await page.addScriptTag({ path: axePath });
        const violations = await page.evaluate(async () =>
          ((await (window as any).axe.run()).violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
        );
        for (const v of violations) problems.push(`${name}: ${v}`);
        if (process.env.SCREENSHOTS_DIR) {
          mkdirSync(process.env.SCREENSHOTS_DIR, { recursive: true });
          writeFileSync(path.join(process.env.SCREENSHOTS_DIR, `${width}-${name.replaceAll(" ", "-")}.png`), await page.screenshot({ fullPage: true }));
        }
        for (const [file, picture] of Object.entries(pictures)) {
          if (process.env.UPDATE_SCREENSHOTS && picture.view === name && picture.width === width) {
            writeFileSync(path.join(root, "docs", file), await page.screenshot({ fullPage: true }));
          }
        }
        const { controls, missed } = await tabThrough(page);
        if (missed.length) problems.push(`${name}: Tab reached ${controls - missed.length} of ${controls} controls, not ${missed.join(", ")}`);
      }
      expect(problems).toEqual([]);
    });
  }
});

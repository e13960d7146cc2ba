/**
 * What each browser test file needs: a real `wrangler dev` on fresh state, a receiver, and
 * Chromium. Each test opens its own signed-in page and makes its own channels, so no test
 * depends on another having run first.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startDispatcher } from "../../scripts/lib/dev-server.mjs";
import { type Receiver, startReceiver } from "./receiver";

const require = createRequire(import.meta.url);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const root = path.resolve(import.meta.dirname, "../..");
export const seed: { type: string; body: string }[] = JSON.parse(readFileSync(path.join(root, "test/fixtures/seed-payloads.json"), "utf8"));
export const hasChromium = existsSync(CHROMIUM);
export const axePath = require.resolve("axe-core");

if (!hasChromium) {
  // CI installs Chromium (.ci/run); a developer without it is told how, and CI never passes without it.
  const message = `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`;
  if (process.env.CI) throw new Error(message);
  console.warn(`${message} Browser tests not run.`);
}

export interface Harness {
  url: string;
  adminToken: string;
  receiver: Receiver;
  browser: Browser;
  /** Uncaught errors in any page: a test ends with none. */
  pageErrors: string[];
  admin(method: string, route: string, body?: unknown): Promise<Response>;
  /** The admin API's JSON answer; throws on an error status. */
  json<T = any>(method: string, route: string, body?: unknown): Promise<T>;
  postEvent(body: string): Promise<Response>;
  /** A channel made through the API, to the receiver unless `fields` says otherwise. */
  channel(fields?: Record<string, unknown>): Promise<{ ID: string; Name: string }>;
  /** A fresh signed-in page (its own context: its own session storage), `width` px wide. */
  page(options?: { width?: number; bypassCSP?: boolean }): Promise<Page>;
  /** Opens `hash` and waits until the router has rendered it. */
  open(page: Page, hash: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The harness of the enclosing `describe`: started before its tests, stopped after them,
 * and each test must end with no uncaught page error. Its tests share the dispatcher, the
 * receiver and the browser, never a page: each opens its own.
 */
export function useHarness(): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness();
  });
  afterAll(() => started?.stop());
  afterEach(() => {
    expect(started?.pageErrors).toEqual([]);
  });
  return new Proxy({} as Harness, {
    get(_, key) {
      if (!started) throw new Error("the harness is used before its describe's beforeAll ran");
      const value = Reflect.get(started, key);
      return typeof value === "function" ? value.bind(started) : value;
    },
  });
}

/** Headless Chromium with a fresh, temporary profile of its own, nothing fetched in the background. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function startHarness(): Promise<Harness> {
  const [server, receiver, browser] = await Promise.all([startDispatcher(), startReceiver(), launchChromium()]);
  const adminToken = server.vars.ADMIN_TOKEN!;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  let made = 0;
  const admin = (method: string, route: string, body?: unknown) =>
    fetch(`${server.url}/portal-api${route}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const harness: Harness = {
    url: server.url,
    adminToken,
    receiver,
    browser,
    pageErrors,
    admin,
    async json(method, route, body) {
      const res = await admin(method, route, body);
      const data = await res.json();
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(data)}`);
      return data;
    },
    postEvent: (body) =>
      fetch(`${server.url}/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${server.vars.INTAKE_TOKEN}`, "Content-Type": "application/json" },
        body,
      }),
    channel: (fields = {}) => harness.json("POST", "/webhooks", { Name: `Channel ${++made}`, URL: receiver.url, Events: ["UserRegistered"], ...fields }),
    async page({ width = 1280, bypassCSP = false } = {}) {
      const context = await browser.newContext({ viewport: { width, height: 800 }, bypassCSP });
      contexts.push(context);
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
      await context.addInitScript((token) => sessionStorage.setItem("adminToken", token), adminToken);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on("pageerror", (err) => pageErrors.push(err.message));
      return page;
    },
    async open(page, hash) {
      await page.goto(`${server.url}/${hash}`);
      await page.locator(`main[aria-busy="false"][data-route="${hash}"]`).waitFor();
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await Promise.all([server.stop(), receiver.close()]);
    },
  };
  return harness;
}

/** An event of the portal's UserRegistered sample, with its own ID (so it is never a duplicate). */
export function userRegistered(id: number, extra: Record<string, unknown> = {}) {
  const event = JSON.parse(seed[0]!.body);
  return JSON.stringify({ ...event, Message: { ...event.Message, ID: id, Email: `user${id}@example.com`, ...extra } });
}

/** Waits until the API says the channel has `n` deliveries of `status` (in a hook too, where expect.poll is not). */
export async function deliveriesOf(h: Harness, channelId: string, status: string, n: number, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let count = -1;
  while (Date.now() < deadline) {
    count = (await h.json<unknown[]>("GET", `/webhooks/${channelId}/deliveries?status=${status}&per_page=100`)).length;
    if (count === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(count, `${status} deliveries of ${channelId}`).toBe(n);
}

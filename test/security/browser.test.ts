/** What the browser is told: the admin UI's Content-Security-Policy, no CORS on the API, the JSON 404 outside it. */
import { describe, expect, it } from "vitest";
import { asDeployed } from "../api/as-deployed";
import { ADMIN, request } from "../helpers";

describe("the browser side", () => {
  it("serves the UI with a strict Content-Security-Policy, and no inline script or style", async () => {
    const res = await request("/", {}, asDeployed());
    expect(res.status).toBe(200);
    const csp = res.headers.get("Content-Security-Policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/js/main.js">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|\son\w+=/);

    const js = await request("/js/main.js", {}, asDeployed());
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Security-Policy")).toBeTruthy();
  });

  it("sends no CORS headers on the API", async () => {
    const preflight = await request(
      "/portal-api/webhooks",
      { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } },
      asDeployed(),
    );
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const get = await request("/portal-api/webhooks", { headers: { ...ADMIN, Origin: "https://evil.example" } }, asDeployed());
    expect(get.status).toBe(200);
    expect(get.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers an unknown path outside the API with the JSON 404", async () => {
    const res = await request("/no-such-page", {}, asDeployed());
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: ["path: not found"] });
  });
});

/**
 * The target-URL guard when a channel is saved: which URLs it may target (created or
 * changed), and what ALLOW_PRIVATE_TARGETS lets through for local development.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { targetUrlProblem } from "../../src/security/target-url";
import { deployedApi } from "../api/as-deployed";
import { count, createChannel } from "../helpers";

const valid = { Name: "CRM", URL: "https://crm.example.com/hooks", Events: ["UserRegistered"] };

describe("target-URL guard", () => {
  const dangerous = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
    "http://%6c%6f%63%61%6c%68%6f%73%74/",
    "http://127.0.0.1.nip.io.localhost/",
    "https://user:pw@example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ws://example.com/",
  ];

  it.each(dangerous)("refuses %s", async (url) => {
    expect(targetUrlProblem(url, false)).not.toBeNull();
    const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(422);
    expect((await res.json<any>()).errors[0]).toMatch(/^URL: /);
  });

  const safe = [
    "https://crm.example.com/hooks/tyk",
    "https://api.moesif.com:8443/x?y=1",
    // Cloudflare's proxy forwards these; a host not behind it gets them as written.
    "https://crm.example.com:2053/",
    "https://crm.example.com:443/",
    "http://crm.example.com:8080/",
    "http://crm.example.com:8880/",
    "http://crm.example.com:80/",
  ];
  it.each(safe)("accepts %s", async (url) => {
    expect(targetUrlProblem(url, false)).toBeNull();
    const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(201);
  });

  // Workers cannot fetch IP addresses (error 1003), public or not, nor reach a port that
  // Cloudflare's proxy ignores for a host behind it (the request would go to 443 or 80).
  const unreachable: [string, string][] = [
    ["http://93.184.216.34/hook", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://8.8.8.8/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://[2606:4700:4700::1111]/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    // A public IPv6 address too (found by attacking a running instance).
    ["https://[2606:4700::6810:84e5]/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["https://134744072/", "must name a host, not an IP address: Workers cannot fetch IP addresses (Cloudflare error 1003)"],
    ["http://[::1]/", "must not target a loopback address"],
    ["http://[0:0:0:0:0:0:0:1]:8080/", "must not target a loopback address"],
    ["http://[::]/", "must not target an unspecified address (0.0.0.0 or ::)"],
    ["http://0.0.0.0/", "must not target an unspecified address (0.0.0.0 or ::)"],
    ["http://[::127.0.0.1]/", "must not target an IPv4-compatible IPv6 address (::/96, deprecated)"],
    ["http://[64:ff9b::7f00:1]/", "must not target an rfc6052 address"],
    ["http://[fd00::1]/", "must not target a unique local address"],
    [
      "https://crm.example.com:9000/hooks",
      "port 9000 cannot be used with https: Cloudflare's proxy forwards only 443, 2053, 2083, 2087, 2096, 8443 (another port is ignored for a host behind it)",
    ],
    [
      "https://crm.example.com:8080/",
      "port 8080 cannot be used with https: Cloudflare's proxy forwards only 443, 2053, 2083, 2087, 2096, 8443 (another port is ignored for a host behind it)",
    ],
    [
      "http://crm.example.com:8443/",
      "port 8443 cannot be used with http: Cloudflare's proxy forwards only 80, 8080, 8880, 2052, 2082, 2086, 2095 (another port is ignored for a host behind it)",
    ],
    [
      "http://crm.example.com:3000/",
      "port 3000 cannot be used with http: Cloudflare's proxy forwards only 80, 8080, 8880, 2052, 2082, 2086, 2095 (another port is ignored for a host behind it)",
    ],
  ];
  it.each(unreachable)("refuses %s at save with 422 naming URL, storing nothing", async (url, why) => {
    expect(targetUrlProblem(url, false)).toBe(why);
    const before = await count("channels");
    const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ errors: [`URL: ${why}`] });
    expect(await count("channels")).toBe(before);
  });

  it("refuses them on PATCH too, keeping the URL", async () => {
    const channel = await createChannel();
    for (const url of ["https://8.8.8.8/", "https://crm.example.com:9000/"]) {
      const res = await deployedApi("PATCH", `/portal-api/webhooks/${channel.ID}`, { URL: url });
      expect(res.status).toBe(422);
      expect((await res.json<any>()).errors[0]).toMatch(/^URL: /);
    }
    expect((await env.DB.prepare("select url from channels where id = ?").bind(channel.ID).first<{ url: string }>())!.url).toBe(channel.URL);
  });

  it.each(["https://crm.example.com/ho\u0000ok", "https://crm.example.com/a\nb", "https://crm.example.com/\u007f"])(
    "refuses a URL with a control character (%j), storing nothing",
    async (url) => {
      const before = await count("channels");
      const res = await deployedApi("POST", "/portal-api/webhooks", { ...valid, URL: url });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({ errors: ["URL: must not contain control characters"] });
      expect(await count("channels")).toBe(before);
    },
  );

  it("lets IP addresses and any port through when ALLOW_PRIVATE_TARGETS is true (local development)", () => {
    for (const url of ["https://8.8.8.8/", "https://[2606:4700:4700::1111]:9000/", "http://127.0.0.1:8789/hook", "https://crm.example.com:9000/"]) {
      expect(targetUrlProblem(url, true), url).toBeNull();
    }
  });

  it("lets loopback through only when ALLOW_PRIVATE_TARGETS is true, but never credentials or other schemes", () => {
    expect(targetUrlProblem("http://127.0.0.1:9999/hook", true)).toBeNull();
    expect(targetUrlProblem("http://localhost/", true)).toBeNull();
    expect(targetUrlProblem("http://u:p@localhost/", true)).not.toBeNull();
    expect(targetUrlProblem("file:///etc/passwd", true)).not.toBeNull();
  });
});

/** The target-URL guard: which URLs a channel may target, at save and again at delivery, however an address is spelled. */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { targetUrlProblem } from "../../src/security/target-url";
import { deployedApi } from "../api/as-deployed";
import { consume, count, createChannel, delivery, errorsOf, makeDelivery } from "../helpers";

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

describe("IPv4 inside IPv6", () => {
  const embedded = [
    "http://[::127.0.0.1]/",
    "http://[::7f00:1]/",
    "http://[::169.254.169.254]/",
    "http://[::10.0.0.1]/",
    "http://[::8.8.8.8]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:a00:1::]/",
    "http://[2002:7f00:1::1]/",
    "http://[2001:0:a00:1::]/",
  ];
  it.each(embedded)("refuses %s at save", async (url) => {
    const res = await deployedApi("POST", "/portal-api/webhooks", { Name: "x", URL: url, Events: ["UserRegistered"] });
    expect(res.status).toBe(422);
    expect((await errorsOf(res))[0]).toMatch(/^URL: must not target/);
  });

  it("refuses them again at delivery", async () => {
    const channel = await createChannel();
    await env.DB.prepare("update channels set url = ? where id = ?").bind("http://[::127.0.0.1]:8787/", channel.ID).run();
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId], { ALLOW_PRIVATE_TARGETS: "false" });
    const row = await delivery(deliveryId);
    expect(row.status).toBe("failed");
    expect(row.last_error).toBe("URL must not target an IPv4-compatible IPv6 address (::/96, deprecated)");
    expect(row.attempt_count).toBe(0);
  });
});

describe("properties", () => {
  it("the target-URL guard refuses every blocked IPv4 address, however it is spelled", () => {
    const ranges: [number, number][] = [
      [0x00000000, 8],
      [0x0a000000, 8],
      [0x7f000000, 8],
      [0x64400000, 10],
      [0xa9fe0000, 16],
      [0xac100000, 12],
      [0xc0a80000, 16],
      [0xc0000000, 24],
      [0xc6120000, 15],
      [0xe0000000, 4],
      [0xf0000000, 4],
    ];
    const blocked = fc.tuple(fc.constantFrom(...ranges), fc.nat()).map(([[base, bits], n]) => (base | (n & (2 ** (32 - bits) - 1))) >>> 0);
    const octets = (ip: number) => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
    const spell = (ip: number, style: number): string => {
      const [a, b, c, d] = octets(ip) as [number, number, number, number];
      switch (style) {
        case 0:
          return `${a}.${b}.${c}.${d}`;
        case 1:
          return String(ip);
        case 2:
          return `0x${ip.toString(16)}`;
        case 3:
          return [a, b, c, d].map((o) => `0x${o.toString(16)}`).join(".");
        case 4:
          return [a, b, c, d].map((o) => `0${o.toString(8)}`).join(".");
        case 5:
          return `${a}.${(b << 16) | (c << 8) | d}`;
        case 6:
          return `${a}.${b}.${(c << 8) | d}`;
        case 7:
          return `0${ip.toString(8)}`;
        case 8:
          return `[::ffff:${a}.${b}.${c}.${d}]`;
        case 9:
          return `[::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}]`;
        case 10:
          return `[0:0:0:0:0:ffff:${a}.${b}.${c}.${d}]`;
        default:
          return `${a}.${b}.${c}.${d}.`;
      }
    };
    fc.assert(
      fc.property(
        blocked,
        fc.integer({ min: 0, max: 11 }),
        fc.constantFrom("http", "https"),
        fc.constantFrom("", ":80", ":8443"),
        (ip, style, scheme, port) => {
          const url = `${scheme}://${spell(ip, style)}${port}/hook`;
          expect(targetUrlProblem(url, false), url).not.toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("the target-URL guard refuses every blocked IPv6 address, compressed or not", () => {
    const prefixes: [number, number][] = [
      [0xfe80, 10],
      [0xfc00, 7],
      [0xff00, 8],
    ];
    const blocked = fc
      .tuple(fc.constantFrom(...prefixes), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }))
      .map(([[base, bits], groups]) => {
        const mask = (0xffff << (16 - bits)) & 0xffff;
        groups[0] = (base & mask) | (groups[0]! & ~mask & 0xffff);
        return groups;
      });
    fc.assert(
      fc.property(fc.oneof(blocked, fc.constant([0, 0, 0, 0, 0, 0, 0, 1]), fc.constant([0, 0, 0, 0, 0, 0, 0, 0])), fc.boolean(), (groups, full) => {
        const text = groups.map((g) => g.toString(16).padStart(full ? 4 : 1, "0")).join(":");
        expect(targetUrlProblem(`https://[${text}]/`, false), text).not.toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});

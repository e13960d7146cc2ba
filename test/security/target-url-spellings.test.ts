/**
 * The target-URL guard, however an address is spelled: IPv4 inside IPv6, refused at save
 * and again at delivery, and (as properties) every blocked IPv4 and IPv6 address.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { targetUrlProblem } from "../../src/security/target-url";
import { deployedApi } from "../api/as-deployed";
import { consume, createChannel, delivery, errorsOf, makeDelivery } from "../helpers";

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

/**
 * Masking echoed secrets (src/security/mask.ts): in every spelling a target may re-encode
 * them in, and, end to end, none of them stored in the attempt log.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MASK, maskSecrets } from "../../src/security/mask";
import { attemptsOf, consume, createChannel, makeDelivery, target } from "../helpers";

afterEach(() => vi.restoreAllMocks());

describe("Echoed secrets in any spelling", () => {
  const secret = 'sk_live a+b/c=d&"<q>';
  const b64 = btoa(secret);
  const spellings = [
    secret,
    "sk_live a+b/c=d&amp;&quot;&lt;q&gt;",
    "sk_live a+b/c=d&#38;&#34;&#60;q&#62;",
    "sk_live a+b/c=d&#x26;&#x22;&#x3C;q&#x3e;",
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ k: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    'sk_live a+b\\/c=d\\u0026\\"\\u003cq\\u003E',
    b64,
    b64.replace(/=+$/, ""),
    b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    btoa(`X-Api-Key: ${secret}`),
    // Nested: one encoding on top of another.
    encodeURIComponent("sk_live a+b/c=d&amp;&quot;&lt;q&gt;"),
    encodeURIComponent(encodeURIComponent(secret)),
    btoa(JSON.stringify({ k: secret })),
    encodeURIComponent(secret).replace(/%/g, "&#37;"),
    [...new TextEncoder().encode(secret)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    [...new TextEncoder().encode(secret)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase(),
  ];

  it.each(spellings)("masks %s", (spelling) => {
    const masked = maskSecrets(`echo: ${spelling} end`, [secret]);
    expect(masked).toContain(MASK);
    expect(masked).not.toContain("sk_live");
    expect(masked).not.toContain(b64.slice(0, 12));
    expect(masked.endsWith(" end")).toBe(true);
  });

  it("masks a spelling cut by the 1 KiB limit, even inside an escape", () => {
    expect(maskSecrets("x sk_live a%2Bb%2", [secret])).toBe(`x ${MASK}`);
    expect(maskSecrets("x sk_live a+b/c=d&am", [secret])).toBe(`x ${MASK}`);
  });

  it("leaves text that only looks like an escape alone", () => {
    const text = "a &amp; b %zz \\u12 &#xZZ; +";
    expect(maskSecrets(text, [secret])).toBe(text);
  });

  it("leaves ordinary text, words and ids alone", () => {
    const text =
      "Request 01a2295a-527f-7abc-8def-0123456789ab failed: upstream answered 502 Bad Gateway; retry later. deadbeefcafe QWxhZGRpbjpvcGVuIHNlc2FtZQ==";
    expect(maskSecrets(text, [secret])).toBe(text);
  });

  it("stores none of them in the attempt log", async () => {
    const channel = await createChannel({ URL: target("status/500"), Headers: [{ Name: "X-Api-Key", Value: secret }] });
    const echoed = spellings.join("\n");
    expect(echoed.length).toBeLessThan(1024);
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(echoed, { status: 500, headers: { "content-type": "text/plain" } }));
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBe(500);
    const lines = attempt.response_body.split("\n");
    expect(lines).toHaveLength(spellings.length);
    for (const line of lines) {
      expect(line).toContain(MASK);
      expect(line).not.toContain("sk_live");
      expect(line).not.toContain(b64.slice(4, 16));
    }
    // Inside a longer base64 value only the characters that encode the secret are masked.
    expect(lines.slice(0, -1)).toEqual(spellings.slice(0, -1).map(() => MASK));
  });
});

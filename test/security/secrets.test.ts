/**
 * Secrets: signing secrets and header values stored only encrypted (and ENCRYPTION_KEY
 * rotation), masked when a target echoes them back, and never in a log line or an error
 * answer.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { secretBox } from "../../src/security/secret-box";
import { asDeployed, deployedApi, deployedIntake } from "../api/as-deployed";
import { recordingQueue } from "../doubles";
import { ADMIN, api, attemptsOf, consume, count, createChannel, makeDelivery, postEvent, runQueue, runSweep, target } from "../helpers";
import { TABLES } from "./row-counts";

const validChannel = { Name: "CRM", URL: "https://crm.example.com/hook", Events: ["UserRegistered"] };

describe("secrets echoed by a target", () => {
  it("are masked in the stored response excerpt, the API and the attempt log", async () => {
    const channel = await createChannel({
      URL: target("echo/500"),
      Headers: [
        { Name: "X-Api-Key", Value: "sk_live_4f9a8c7e6d5b" },
        { Name: "X-Tenant", Value: "acme-corp-eu" },
      ],
    });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt.status_code).toBe(500);
    expect(attempt.response_body).toContain("x-api-key: [redacted]");
    expect(attempt.response_body).toContain("x-tenant: [redacted]");
    expect(attempt.response_body).not.toContain("sk_live_4f9a8c7e6d5b");
    expect(attempt.response_body).not.toContain("acme-corp-eu");
    // The rest of the page is kept.
    expect(attempt.response_body).toContain("user-agent: tyk-webhook-dispatcher/0.1.0");
    const raw = await env.DB.prepare("select attempts from deliveries where id = ?").bind(deliveryId).first<{ attempts: string }>();
    expect(raw!.attempts).not.toContain("sk_live_4f9a8c7e6d5b");
    const viewed = await (await api("GET", `/portal-api/deliveries/${deliveryId}`)).text();
    expect(viewed).not.toContain("sk_live_4f9a8c7e6d5b");
  });

  it("masks a secret cut in two by the 1 KiB limit, and JSON-escaped or URL-encoded copies", async () => {
    const { maskSecrets } = await import("../../src/security/mask");
    expect(maskSecrets(`${"x".repeat(10)}sk_live_4f9`, ["sk_live_4f9a8c7e6d5b"])).toBe(`${"x".repeat(10)}[redacted]`);
    expect(maskSecrets('{"echo":"a\\"b/c d"}', ['a"b/c d'])).toBe('{"echo":"[redacted]"}');
    expect(maskSecrets("?key=a%20b%26c", ["a b&c"])).toBe("?key=[redacted]");
    expect(maskSecrets("abc abc", ["abc"])).toBe("abc abc");
  });
});

describe("secrets at rest", () => {
  async function dump(): Promise<string> {
    const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`select * from ${t}`)));
    return JSON.stringify(results.map((r) => r.results));
  }

  it("stores signing secrets and header values only encrypted, and still returns them to an admin", async () => {
    const channel = await createChannel({ Headers: [{ Name: "Authorization", Value: "Bearer crm-live-4f9a1c" }] });
    const { Secret } = await (await deployedApi("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    await deployedApi("POST", `/portal-api/webhooks/${channel.ID}/secret/rotate`);
    const rotated = await (await deployedApi("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();

    const all = await dump();
    for (const plain of ["crm-live-4f9a1c", Secret, Secret.slice(6), rotated.Secret, rotated.Secret.slice(6)]) {
      expect(all).not.toContain(plain);
    }
    expect(channel.Headers[0]!.Value).toBe("Bearer crm-live-4f9a1c");
    expect(rotated.PreviousSecret).toBe(Secret);
  });

  it("fails closed, saying why, when ENCRYPTION_KEY is missing", async () => {
    const res = await api("POST", "/portal-api/webhooks", validChannel, ADMIN, asDeployed({ ENCRYPTION_KEY: undefined }));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ errors: ["ENCRYPTION_KEY: not configured on this deployment"], RequestId: res.headers.get("X-Request-Id") });
  });

  it("rotates ENCRYPTION_KEY: the previous key still decrypts, and the sweeper re-encrypts everything", async () => {
    const channel = await createChannel({ Headers: [{ Name: "X-Key", Value: "rotate-me" }] });
    const oldKey = env.ENCRYPTION_KEY!;
    const newKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

    const rotating = { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey };
    const during = await (await api("GET", `/portal-api/webhooks/${channel.ID}`, undefined, ADMIN, asDeployed(rotating))).json<any>();
    expect(during.Headers[0].Value).toBe("rotate-me");

    // Every channel the other tests left behind moves too, a slice per run, until none is left.
    const prefix = async (key: string) => `${(await secretBox({ ENCRYPTION_KEY: key })).currentPrefix}%`;
    const stale = async () => count("channels", "secret not like ?", await prefix(newKey));
    for (let i = 0; i < 20 && (await runSweep({ DELIVERIES: recordingQueue(), ...rotating })).reencrypted > 0; i++);
    expect(await stale()).toBe(0);
    const after = await (await api("GET", `/portal-api/webhooks/${channel.ID}`, undefined, ADMIN, asDeployed({ ENCRYPTION_KEY: newKey }))).json<any>();
    expect(after.Headers[0].Value).toBe("rotate-me");
    const old = await api("GET", `/portal-api/webhooks/${channel.ID}`, undefined, ADMIN, asDeployed({ ENCRYPTION_KEY: oldKey }));
    expect(old.status).toBe(503);

    // Back to the test key for the rest of the suite, and checked back.
    const back = { ENCRYPTION_KEY: oldKey, ENCRYPTION_KEY_PREVIOUS: newKey };
    for (let i = 0; i < 20 && (await runSweep({ DELIVERIES: recordingQueue(), ...back })).reencrypted > 0; i++);
    expect(await count("channels", "secret not like ?", await prefix(oldKey))).toBe(0);
  });
});

describe("nothing leaked", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs hold no token, secret, header value or payload during intake and delivery", async () => {
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const url = target("status/500");
    const channel = await createChannel({ URL: url, Events: ["RegisterInvite"], Headers: [{ Name: "X-Api-Key", Value: "hdr-value-7d1e" }] });
    const { Secret } = await (await deployedApi("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    const queue = recordingQueue();
    const body = JSON.stringify({ Event: "RegisterInvite", Message: { Email: "payload-marker-93b2@example.com" }, Timestamp: new Date().toISOString() });
    const accepted = await postEvent(body, {}, { DELIVERIES: queue, ALLOW_PRIVATE_TARGETS: "true" });
    expect(accepted.status).toBe(202);
    await deployedIntake(body, { Authorization: "Bearer wrong-token-value" });

    await runQueue(
      "tyk-webhook-deliveries",
      queue.sent.flat().map(({ body }) => body),
    );

    // The failed attempt is logged (successes are only in D1).
    expect(lines.some((line) => line.includes('"attempt failed"'))).toBe(true);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const secret of [
        env.ADMIN_TOKEN!,
        env.INTAKE_TOKEN!,
        "wrong-token-value",
        "hdr-value-7d1e",
        "payload-marker-93b2",
        Secret,
        Secret.slice(6),
        env.ENCRYPTION_KEY!,
      ]) {
        expect(line).not.toContain(secret);
      }
    }
  });

  it("an internal error answers 500 without a stack trace or internals", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      prepare: () => {
        throw new Error("D1_ERROR: secret internals at line 42");
      },
      batch: () => Promise.reject(new Error("D1_ERROR: secret internals")),
    };
    const res = await api("GET", "/portal-api/events", undefined, ADMIN, asDeployed({ DB: broken }));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: ["server: internal error"], RequestId: res.headers.get("X-Request-Id") });
    expect(text).not.toContain("internals");
  });
});

import { describe, expect, it } from "vitest";
import { api, createChannel } from "../helpers";

describe("channel API: signing secret", () => {
  it("creates a whsec_ secret of 32 random bytes and rotates it, keeping the old one for 24 h", async () => {
    const channel = await createChannel();
    const first = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    expect(first.Secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(first.Secret.slice(6))).toHaveLength(32);
    expect(first.PreviousSecret).toBeNull();

    const rotated = await api("POST", `/portal-api/webhooks/${channel.ID}/secret/rotate`);
    expect(rotated.status).toBe(200);
    const { Secret } = await rotated.json<any>();
    expect(Secret).toMatch(/^whsec_/);
    expect(Secret).not.toBe(first.Secret);

    const after = await (await api("GET", `/portal-api/webhooks/${channel.ID}/secret`)).json<any>();
    expect(after.Secret).toBe(Secret);
    expect(after.PreviousSecret).toBe(first.Secret);
    const expires = Date.parse(after.PreviousSecretExpiresAt) - Date.now();
    expect(expires).toBeGreaterThan(23.9 * 3600_000);
    expect(expires).toBeLessThanOrEqual(24 * 3600_000);
  });
});

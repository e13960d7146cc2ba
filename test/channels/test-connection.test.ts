/** Test Connection (POST /portal-api/webhooks/{id}/test): a HEAD to the target, and what it answered. */
import { describe, expect, inject, it } from "vitest";
import { api, createChannel, receivedAt, target } from "../helpers";

describe("channel API: Test Connection", () => {
  it("sends a HEAD without the custom headers and reports the answer", async () => {
    const url = target("ok");
    const channel = await createChannel({ URL: url, Headers: [{ Name: "X-Secret-Header", Value: "s3cret" }] });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test`);
    expect(res.status).toBe(200);
    const result = await res.json<any>();
    expect(result).toMatchObject({ Success: true, StatusCode: 200, Error: null });
    expect(result.DurationMs).toBeGreaterThanOrEqual(0);
    const [seen, ...more] = await receivedAt(url);
    expect(more).toHaveLength(0);
    expect(seen!.method).toBe("HEAD");
    expect(seen!.headers["x-secret-header"]).toBeUndefined();
  });

  it("reports a non-2xx answer as a failure with its status", async () => {
    const channel = await createChannel({ URL: target("status/404") });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: 404 });
    expect(result.Error).toContain("404");
  });

  it("reports a closed port as a connection error", async () => {
    const channel = await createChannel({ URL: `http://127.0.0.1:${inject("closedPort")}/hook` });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result.Success).toBe(false);
    expect(result.StatusCode).toBeNull();
    expect(result.Error).toBeTruthy();
  });

  it("gives up on a slow server after the channel's Timeout", async () => {
    const channel = await createChannel({ URL: target("sleep/3000"), Timeout: 1 });
    const result = await (await api("POST", `/portal-api/webhooks/${channel.ID}/test`)).json<any>();
    expect(result).toMatchObject({ Success: false, StatusCode: null, Error: "timed out after 1s" });
    expect(result.DurationMs).toBeGreaterThanOrEqual(900);
    expect(result.DurationMs).toBeLessThan(2900);
  });
});

import { describe, expect, it, vi } from "vitest";
import { ADMIN, request } from "../helpers";
import { down } from "./d1-outage";

describe("the admin API through a D1 outage", () => {
  it.each([
    ["GET", "/portal-api/webhooks"],
    ["GET", "/portal-api/events?q=someone"],
    ["GET", "/portal-api/deliveries"],
  ])("%s %s answers 503 with Retry-After, not a 500", async (method, path) => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await request(path, { method, headers: ADMIN }, { DB: down() });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await res.json()).toEqual({ errors: ["database: unavailable for a moment; try again shortly"], RequestId: res.headers.get("X-Request-Id") });
  });
});

/** src/delivery/outcome.ts, as values: what an attempt came to (judge), and the delivery's next state (next). */
import { describe, expect, it } from "vitest";
import { GONE, judge, next } from "../../src/delivery/outcome";
import { buildFault } from "../../src/delivery/request";
import type { CallResult } from "../../src/http/outbound";

const answered = (status: number, retryAfter?: string): CallResult => ({
  ok: true,
  status,
  body: "",
  headers: new Headers(retryAfter ? { "Retry-After": retryAfter } : {}),
  durationMs: 5,
});
const NOW = Date.parse("2026-01-01T00:00:00Z");

describe("judge: what an attempt came to", () => {
  it.each([
    [answered(200), { kind: "delivered" }],
    [answered(204), { kind: "delivered" }],
    [answered(302), { kind: "failed" }],
    [answered(410), { kind: "gone" }],
    [answered(500), { kind: "failed" }],
    [answered(429, "7"), { kind: "failed", retryAfter: 7 }],
    [answered(503, "Thu, 01 Jan 2026 00:01:00 GMT"), { kind: "failed", retryAfter: 60 }],
    [answered(429), { kind: "failed", retryAfter: undefined }],
    [{ ok: false, error: "timeout", message: "timed out after 1s", durationMs: 1000 } as CallResult, { kind: "failed" }],
  ])("%j → %j", (result, outcome) => {
    expect(judge(result, NOW)).toEqual(outcome);
  });
});

describe("next: the delivery's next state", () => {
  const schedule = [5, 300];
  const middle = () => 0.5; // no jitter
  it("succeeds on delivered", () => expect(next({ kind: "delivered" }, 1, schedule, middle)).toEqual({ status: "succeeded" }));
  it("fails at once on gone, saying why", () => expect(next({ kind: "gone" }, 1, schedule, middle)).toEqual({ status: "failed", reason: GONE }));
  it("retries after the schedule's delay for its attempt", () => {
    expect(next({ kind: "failed" }, 1, schedule, middle)).toEqual({ status: "retrying", delaySeconds: 5 });
    expect(next({ kind: "failed" }, 2, schedule, middle)).toEqual({ status: "retrying", delaySeconds: 300 });
  });
  it("fails when the schedule runs out", () => expect(next({ kind: "failed" }, 3, schedule, middle)).toEqual({ status: "failed" }));
  it("waits at least Retry-After", () =>
    expect(next({ kind: "failed", retryAfter: 60 }, 1, schedule, middle)).toEqual({ status: "retrying", delaySeconds: 60 }));
});

describe("a request that could not be built", () => {
  it("a fault of the event's data cannot be retried; a fault of configuration follows the schedule", () => {
    expect(judge(buildFault("data", "x"), NOW)).toEqual({ kind: "unsendable" });
    expect(next({ kind: "unsendable" }, 1, [5, 300])).toEqual({ status: "failed" });
    expect(judge(buildFault("config", "x"), NOW)).toEqual({ kind: "failed" });
  });
});

/** The pure modules, on their own: outcomes, backoff, latency histograms, masking. */
import { describe, expect, it } from "vitest";
import { GONE, judge, next } from "../src/delivery/outcome";
import { buildFault } from "../src/delivery/request";
import { type CallResult, finalAfterInterim } from "../src/http/outbound";
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds, scheduledDelay } from "../src/retry/backoff";
import { BUCKET_BOUNDS, bucketOf, percentile } from "../src/stats/latency";

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

describe("backoff", () => {
  it("jitters ±20% around the schedule", () => {
    expect(scheduledDelay([100], 1, () => 0)).toBe(80);
    expect(scheduledDelay([100], 1, () => 1)).toBe(120);
    expect(scheduledDelay([100], 2, () => 0.5)).toBeUndefined();
  });
  it.each([
    ["120", 120],
    [" 3 ", 3],
    ["Thu, 01 Jan 2026 00:00:30 GMT", 30],
    ["Wed, 31 Dec 2025 23:00:00 GMT", 0],
    ["999999999", MAX_RETRY_AFTER_SECONDS],
    ["soon", undefined],
    [null, undefined],
  ])("Retry-After %j → %j seconds", (header, seconds) => {
    expect(retryAfterSeconds(header, NOW)).toBe(seconds);
  });
});

describe("latency histogram", () => {
  it("puts each duration in the first bucket whose bound holds it", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(41)).toBe(BUCKET_BOUNDS.findIndex((b) => b >= 41));
    expect(bucketOf(10_000_000)).toBe(BUCKET_BOUNDS.length - 1);
  });
  it("gives exact percentiles without a histogram, and close ones with", () => {
    expect(percentile([10, 20, 30, 40], [], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], [], 0.95)).toBe(40);
    expect(percentile([], [], 0.5)).toBeNull();
    const histogram: number[] = [];
    histogram[bucketOf(100)] = 10;
    const p50 = percentile([], histogram, 0.5)!;
    expect(p50).toBeGreaterThan(80);
    expect(p50).toBeLessThanOrEqual(102);
  });
});

describe("a request that could not be built", () => {
  it("a fault of the event's data cannot be retried; a fault of configuration follows the schedule", () => {
    expect(judge(buildFault("data", "x"), NOW)).toEqual({ kind: "unsendable" });
    expect(next({ kind: "unsendable" }, 1, [5, 300])).toEqual({ status: "failed" });
    expect(judge(buildFault("config", "x"), NOW)).toEqual({ kind: "failed" });
  });
});

describe("finalAfterInterim: the answer behind an interim response", () => {
  it("reads the final status, headers and de-chunked body after any number of 1xx", () => {
    const raw =
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nslow \r\n4\r\ndown\r\n0\r\n\r\n";
    const final = finalAfterInterim(raw)!;
    expect(final.status).toBe(429);
    expect(final.headers.get("retry-after")).toBe("7");
    expect(final.body).toBe("slow down");
  });

  it("finds nothing in bytes that hold no final response", () => {
    expect(finalAfterInterim("")).toBeUndefined();
    expect(finalAfterInterim("HTTP/1.1 100 Continue\r\n\r\n")).toBeUndefined();
    expect(finalAfterInterim("not http at all")).toBeUndefined();
  });
});

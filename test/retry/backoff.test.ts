/** src/retry/backoff.ts: the schedule's jitter, and Retry-After read in seconds or as a date. */
import { describe, expect, it } from "vitest";
import { MAX_RETRY_AFTER_SECONDS, retryAfterSeconds, scheduledDelay } from "../../src/retry/backoff";

const NOW = Date.parse("2026-01-01T00:00:00Z");

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

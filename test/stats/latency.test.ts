/** src/stats/latency.ts: the latency histogram's buckets and percentiles. */
import { describe, expect, it } from "vitest";
import { BUCKET_BOUNDS, bucketOf, percentile } from "../../src/stats/latency";

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

/**
 * Latency as a histogram that can be added up: bucket k holds the attempts that took at
 * most BUCKET_BOUNDS[k] ms (and more than the bound before it). The bounds grow by about
 * a quarter each, so a percentile read from them is off by at most half a bucket, ~12%.
 */
export const BUCKET_BOUNDS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let k = 0; bounds.at(-1) === undefined || bounds.at(-1)! < 120_000; k++) {
    const bound = Math.round(2 ** (k / 3));
    if (bound !== bounds.at(-1)) bounds.push(bound);
  }
  return bounds;
})();

export type Histogram = number[];

export function bucketOf(ms: number): number {
  const k = BUCKET_BOUNDS.findIndex((bound) => ms <= bound);
  return k < 0 ? BUCKET_BOUNDS.length - 1 : k;
}

export function addTo(histogram: Histogram, other: readonly number[]): Histogram {
  other.forEach((n, k) => {
    histogram[k] = (histogram[k] ?? 0) + (n ?? 0);
  });
  return histogram;
}

/**
 * The p-th percentile (0 < p < 1) of exact values and a histogram together: exact when
 * there is no histogram, else read from the histogram (the exact values added to it),
 * interpolated within the bucket. Null when there is nothing.
 */
export function percentile(exact: number[], histogram: Histogram, p: number): number | null {
  const binned = histogram.reduce((sum, n) => sum + (n ?? 0), 0);
  if (binned === 0) {
    if (exact.length === 0) return null;
    const sorted = [...exact].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  }
  const all = addTo(
    [...histogram],
    exact.reduce<Histogram>((h, ms) => addTo(h, oneAt(bucketOf(ms))), []),
  );
  const total = binned + exact.length;
  const rank = p * total;
  let seen = 0;
  for (let k = 0; k < all.length; k++) {
    const n = all[k] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = k === 0 ? 0 : BUCKET_BOUNDS[k - 1]!;
      return Math.round(lower + (BUCKET_BOUNDS[k]! - lower) * ((rank - seen) / n));
    }
    seen += n;
  }
  return BUCKET_BOUNDS.at(-1)!;
}

function oneAt(k: number): Histogram {
  const h: Histogram = [];
  h[k] = 1;
  return h;
}

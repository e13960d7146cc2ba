import { compileFilter, type Predicate } from "./filter";

/**
 * The channels' filters as this isolate last read them, each with its version. Intake
 * evaluates them in JavaScript and tells its one D1 statement which (channel, version)
 * pairs matched; the statement admits a filtered channel only on an exact version match,
 * and reports the filtered channels whose version this cache does not know. So a stale
 * cache can only cost a second look (a read and a write), never a wrong delivery.
 */
const cache = new Map<string, { version: number; test: Predicate }>();

export interface FilterVerdicts {
  /** The filtered channels this event passes, as [id, version] pairs for the statement. */
  matched: { id: string; v: number }[];
  /** Every filtered channel this cache knows, with its version. */
  known: { id: string; v: number }[];
}

export function judgeByFilters(event: unknown): FilterVerdicts {
  const matched: FilterVerdicts["matched"] = [];
  const known: FilterVerdicts["known"] = [];
  for (const [id, { version, test }] of cache) {
    known.push({ id, v: version });
    if (test(event)) matched.push({ id, v: version });
  }
  return { matched, known };
}

/** Learns channels' current filters (read from D1) and judges the event by them. */
export function learnFilters(rows: { id: string; filter: string; version: number }[], event: unknown): FilterVerdicts["matched"] {
  const matched: FilterVerdicts["matched"] = [];
  for (const { id, filter, version } of rows) {
    const test = compileFilter(JSON.parse(filter));
    cache.set(id, { version, test });
    if (test(event)) matched.push({ id, v: version });
  }
  return matched;
}

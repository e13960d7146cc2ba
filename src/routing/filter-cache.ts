import { compileFilter, EventIndex, type Predicate } from "./filter";

/**
 * The channels' filters as this isolate last read them, each with its version. Intake
 * evaluates them in JavaScript and tells its one D1 statement which (channel, version)
 * pairs matched; the statement admits a filtered channel only on an exact version match,
 * and reports the filtered channels whose version this cache does not know. So a stale
 * cache can only cost a second look (a read and a write), never a wrong delivery.
 */
const cache = new Map<string, { version: number; test: Predicate; types: Set<string> }>();

/**
 * One index per event object, so every filter that judges it (the cached ones, then any
 * learnt after a read) shares what was worked out of its arrays: see `EventIndex`.
 */
const indexes = new WeakMap<object, EventIndex>();
export function indexFor(event: unknown): EventIndex {
  if (typeof event !== "object" || event === null) return new EventIndex();
  let index = indexes.get(event);
  if (!index) {
    index = new EventIndex();
    indexes.set(event, index);
  }
  return index;
}

/** A filtered channel at one version, as the statement compares it: "<id>:<version>". */
const key = (id: string, version: number) => `${id}:${version}`;

export interface FilterVerdicts {
  /** The filtered channels this event passes. */
  matched: string[];
  /** Every filtered channel this cache knows for the event's type. */
  known: string[];
}

/**
 * Judges the event by the filters of the channels this cache knows for its type. A
 * channel that subscribed to the type since is not known for it: the statement reports
 * it, and it is learned (which is why knowing it by type is safe).
 */
export function judgeByFilters(event: unknown, type: string): FilterVerdicts {
  const matched: string[] = [];
  const known: string[] = [];
  const index = indexFor(event);
  for (const [id, { version, test, types }] of cache) {
    if (!types.has(type)) continue;
    known.push(key(id, version));
    if (test(event, index)) matched.push(key(id, version));
  }
  return { matched, known };
}

/** Learns channels' current filters for a type (read from D1) and judges the event by them. */
export function learnFilters(rows: { id: string; filter: string; version: number }[], event: unknown, type: string): string[] {
  const matched: string[] = [];
  const index = indexFor(event);
  for (const { id, filter, version } of rows) {
    const cached = cache.get(id);
    const types = cached?.version === version ? cached.types : new Set<string>();
    const test = cached?.version === version ? cached.test : compileFilter(JSON.parse(filter));
    types.add(type);
    cache.set(id, { version, test, types });
    if (test(event, index)) matched.push(key(id, version));
  }
  return matched;
}

// What one event costs its filters: the index of its arrays and keys that every filter shares, and the operand Sets looked up in it.
import type { Json } from "./filter-syntax";

/**
 * What one event costs its filters, shared by every filter that judges it. Judging is
 * bounded by construction: each array of the event is indexed at most once (a Set of its
 * items), each object or array is written as a canonical key at most once, and a filter's
 * condition then costs lookups in proportion to its own operands. So the work for an event
 * is O(event size + the filters' sizes), never their product (a 2,035-value `$in` against a
 * 131,000-item array once took 2.7 × 10⁸ comparisons per channel).
 *
 * `work` counts the units spent (items indexed, nodes keyed, lookups), for tests to bound.
 */
export class EventIndex {
  work = 0;
  private readonly items = new WeakMap<readonly unknown[], Items>();
  private readonly keys = new WeakMap<object, string>();

  /** The items of an array field, as Sets: scalars as themselves, objects and arrays by key. */
  itemsOf(array: readonly unknown[]): Items {
    let items = this.items.get(array);
    if (!items) {
      items = { scalars: new Set(), composites: new Set() };
      for (const item of array) {
        this.work++;
        if (typeof item === "object" && item !== null) items.composites.add(this.keyOf(item));
        else items.scalars.add(item);
      }
      this.items.set(array, items);
    }
    return items;
  }

  /** A canonical key for an object or array: equal as JSON (keys in any order) ⇔ equal key. */
  keyOf(value: object): string {
    let key = this.keys.get(value);
    if (key === undefined) {
      key = canonicalKey(
        value,
        (v) => this.keyOf(v),
        () => this.work++,
      );
      this.keys.set(value, key);
    }
    return key;
  }
}

interface Items {
  scalars: Set<unknown>;
  composites: Set<string>;
}

function canonicalKey(value: object, keyOf: (v: object) => string, count: () => void): string {
  count();
  const key = (v: unknown) => (typeof v === "object" && v !== null ? keyOf(v) : JSON.stringify(v));
  if (Array.isArray(value)) return `[${value.map(key).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${key(record[k])}`)
    .join(",")}}`;
}

/**
 * The operand values of `$eq`/`$in` (and of their negations) as Sets, so a field is looked
 * up, not compared with each value. Equal means equal as JSON; a field that is an array
 * matches a non-array value it contains, or an array value equal to it as a whole.
 */
export class ValueSet {
  private readonly scalars = new Set<unknown>();
  private readonly objects = new Set<string>();
  private readonly arrays = new Set<string>();
  private readonly keyer = new EventIndex();

  constructor(values: readonly Json[]) {
    for (const v of values) {
      if (Array.isArray(v)) this.arrays.add(this.keyer.keyOf(v));
      else if (typeof v === "object" && v !== null) this.objects.add(this.keyer.keyOf(v));
      else this.scalars.add(v);
    }
  }

  holds(field: unknown, index: EventIndex): boolean {
    index.work++;
    if (field === undefined) return false;
    if (typeof field !== "object" || field === null) return this.scalars.has(field);
    if (!Array.isArray(field)) return this.objects.size > 0 && this.objects.has(index.keyOf(field));
    if (this.arrays.size && this.arrays.has(index.keyOf(field))) return true;
    if (!this.scalars.size && !this.objects.size) return false;
    const items = index.itemsOf(field);
    return intersects(this.scalars, items.scalars, index) || intersects(this.objects, items.composites, index);
  }
}

/** Whether two Sets share a member, looking up the smaller's members in the larger. */
function intersects<T>(a: Set<T>, b: Set<T>, index: EventIndex): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const v of small) {
    index.work++;
    if (large.has(v)) return true;
  }
  return false;
}

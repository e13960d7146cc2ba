/*
 * Events and deliveries are keyed by UUIDv7 (RFC 9562 §5.7): 48 bits of unix milliseconds
 * first, then a counter, then random bits. As lower-case text, key order is creation
 * order, so a table's primary key is also its time index: "newest first" and "created
 * between" are key ranges, with no index of their own to write (see "Rows per delivery" in
 * docs/capacity.md).
 *
 * Within one millisecond an isolate counts (RFC 9562 §6.2, method 1: a fixed-length
 * counter seeded at random each millisecond): Workers' clock stands still while a request
 * runs, so without it ids of one request would sort at random.
 *
 * A delivery's id is its event's first 23 characters (time and counter) and random bits:
 * an event's deliveries sort where their event does, and are found in each channel's key
 * range of their event's millisecond.
 */

/** The counter's bits: rand_a (12) and the 14 bits of rand_b after the variant. */
const COUNTER_BITS = 26;
const COUNTER_MAX = 2 ** COUNTER_BITS - 1;

let lastMs = -1;
let counter = 0;

/**
 * A new UUIDv7 for something created at `ms` (unix milliseconds). Ids made for the same
 * millisecond in one isolate increase; an id for an earlier millisecond than the last is
 * still of its own time (tests and migrations date things in the past).
 */
export function timeOrderedId(ms: number): string {
  let time = Math.max(0, Math.floor(ms));
  if (time < lastMs) return format(time, seed(), randomHex(6));
  if (time > lastMs) {
    lastMs = time;
    counter = seed();
  } else if (counter < COUNTER_MAX) {
    counter++;
  } else {
    // Counter spent (2^25 ids in one millisecond at least): borrow the next millisecond.
    time = ++lastMs;
    counter = seed();
  }
  return format(time, counter, randomHex(6));
}

/** A fresh counter value, with its top bit clear so the millisecond has room to count. */
const seed = () => crypto.getRandomValues(new Uint32Array(1))[0]! & (COUNTER_MAX >>> 1);

function format(ms: number, count: number, tail: string): string {
  const randA = (count >>> 14).toString(16).padStart(3, "0");
  const low = count & 0x3fff;
  // The variant's two bits (RFC 9562 §4.1) lead the 14 low counter bits.
  const variant = (0x8000 | low).toString(16);
  return `${idFloor(ms)}-7${randA}-${variant}-${tail}`;
}

const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

/**
 * The lowest id of anything created at `ms` or later: `id >= idFloor(t)` is "created at t
 * or later", `id < idFloor(t)` "created before t".
 */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8)}`;
}

/** The ids of the same millisecond as `id` lie strictly between these two: an event's deliveries. */
export const sameMillisecondAs = (id: string) => ({ after: id.slice(0, 13), before: `${id.slice(0, 13)}.` });

/**
 * SQL for a new delivery id of the event whose id `eventId` (an SQL expression) gives: its
 * time and counter (the first 23 characters), then 48 new random bits.
 */
export const sqlDeliveryId = (eventId: string) => `substr(${eventId}, 1, 23) || printf('-%012x', random() & 281474976710655)`;

/**
 * SQL: `column` lies in the ids of the same millisecond as the id `of` (both SQL
 * expressions), the range that holds an event's deliveries.
 */
export const sqlSameMillisecond = (column: string, of: string) => `${column} > substr(${of}, 1, 13) and ${column} < substr(${of}, 1, 13) || '.'`;

/*
 * Events and deliveries are keyed by UUIDv7: 48 bits of unix milliseconds first, then
 * random bits. As lower-case text, key order is time order, so a table's primary key is
 * also its time index: "newest first" and "created between" are key ranges, with no index
 * of their own to write (see "Rows per delivery" in docs/capacity.md).
 *
 * An event's deliveries carry its time: a delivery's id starts with the same 13
 * characters (48 bits of time) as its event's id, so an event's deliveries are found in
 * each channel's key range of that millisecond.
 */

/** A new UUIDv7 for something created at `ms`. */
export function timeOrderedId(ms: number): string {
  const random = crypto.getRandomValues(new Uint8Array(10));
  random[0] = 0x70 | (random[0]! & 0x0f); // version 7
  random[2] = 0x80 | (random[2]! & 0x3f); // RFC 9562 variant
  const hex = idFloor(ms).replace("-", "") + [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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

/** SQL for a new delivery id of the event whose id `eventId` (an SQL expression) gives: its time, new random bits. */
export const sqlDeliveryId = (eventId: string) =>
  `substr(${eventId}, 1, 13) || printf('-7%03x-%04x-%012x', random() & 4095, 32768 | (random() & 16383), random() & 281474976710655)`;

/**
 * SQL: `column` lies in the ids of the same millisecond as the id `of` (both SQL
 * expressions), the range that holds an event's deliveries.
 */
export const sqlSameMillisecond = (column: string, of: string) => `${column} > substr(${of}, 1, 13) and ${column} < substr(${of}, 1, 13) || '.'`;

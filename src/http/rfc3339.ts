import { z } from "@hono/zod-openapi";

/**
 * The one time format every input takes, query or body, admin API or intake: an RFC 3339
 * date-time (https://www.rfc-editor.org/rfc/rfc3339#section-5.6), `T` or `t`, up to 9
 * fractional digits (Go's time.RFC3339Nano, which the portal writes), `Z` or an offset:
 *
 *   2024-06-30T23:59:59Z   2024-04-22T16:38:54.068565+02:00   0001-01-01T00:00:00Z
 *
 * The time must exist: the grammar alone lets through `2024-02-31` (which Date.parse reads
 * as 2 March) and second 60 (which Date.parse cannot read at all, so a route would answer
 * 500 or drop the bound). Leap seconds are refused too: the portal (Go) never writes one,
 * and no JavaScript time can hold one.
 */
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const daysIn = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** Why `text` is not an RFC 3339 date-time that exists, or null when it is one. */
export function rfc3339Problem(text: string): string | null {
  const m = RFC3339.exec(text);
  if (!m) return "must be an RFC 3339 date-time, like 2024-06-30T23:59:59Z";
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return `must be a date that exists: there is no month ${m[2]}`;
  const days = daysIn(year, month);
  if (day < 1 || day > days) return `must be a date that exists: ${MONTHS[month - 1]} ${year} has ${days} days`;
  if (m[6] === "60") return "must be a time that exists: second 60 (a leap second) is not accepted";
  return null;
}

export const isRfc3339 = (text: string) => rfc3339Problem(text) === null;

/** An RFC 3339 date-time that exists (see above); kept as the text given. */
export const timestamp = z
  .string()
  .superRefine((text, ctx) => {
    const problem = rfc3339Problem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ format: "date-time", example: "2024-06-30T23:59:59Z" });

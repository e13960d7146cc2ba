import { z } from "@hono/zod-openapi";

/*
 * Cursor paging for the admin lists. An offset ("page 2") counts rows, so a row that
 * leaves the list between two reads (a failed delivery redelivered) shifts every later
 * row forward and one is never shown. A cursor is instead a position in the list's key
 * order (ids are UUIDv7, time-ordered: src/db/ids.ts), and the next page is "what comes
 * after this position": every item that existed from the first page to the last is
 * listed exactly once, however many change status or arrive meanwhile.
 *
 * The cursor is opaque to clients (base64url of the list's name and the position), so
 * its form can change; the URL that carries it is given in a `Link: <…>; rel="next"`
 * header (RFC 8288), present while more items follow.
 */

/** A position that is an id (a UUID, in key order). */
const idPosition = z.tuple([z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)]);

/** Which list a cursor belongs to, and the shape of its position. */
const positions = {
  /** Channels, oldest first: created at (unix ms), then id. */
  webhooks: z.tuple([z.int().min(0), z.string().min(1).max(200)]),
  /** Every channel's deliveries, newest first: the delivery id. */
  deliveries: idPosition,
  /** One channel's deliveries, newest first: the delivery id (a list of its own, so a cursor of another is refused). */
  webhookDeliveries: idPosition,
  /** Events, newest first: the event id. */
  events: idPosition,
};
export type ListName = keyof typeof positions;
export type Position<L extends ListName> = z.infer<(typeof positions)[L]>;

const toBase64Url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

export function encodeCursor<L extends ListName>(list: L, position: Position<L>): string {
  // The positions hold ASCII only (ids, numbers), so btoa takes the JSON as it is.
  return toBase64Url(JSON.stringify([list, ...position]));
}

/** The position a cursor names, or undefined if it is not a cursor of `list`. */
export function decodeCursor<L extends ListName>(list: L, cursor: string | undefined): Position<L> | undefined {
  if (cursor === undefined || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const [name, ...position] = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (name !== list) return undefined;
    const parsed = positions[list].safeParse(position);
    return parsed.success ? (parsed.data as Position<L>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `cursor` query parameter of a list: a 422 naming `cursor` unless the list gave it. */
export const cursorParam = (list: ListName) =>
  z
    .string()
    .refine((cursor) => decodeCursor(list, cursor) !== undefined, 'is not a cursor of this list (follow the Link header\'s rel="next")')
    .optional()
    .openapi({
      param: { in: "query" },
      description: 'Where to go on from: the position the previous page\'s `Link: <…>; rel="next"` header (RFC 8288) carries. `page` counts on from it.',
    });

/** A page read with one row more than it shows: that row says whether more follow. */
export interface Page<T> {
  items: T[];
  /** The last item shown, when more follow. */
  last?: T;
}

export function pageOf<T>(rows: T[], perPage: number): Page<T> {
  const items = rows.slice(0, perPage);
  return rows.length > perPage ? { items, last: items.at(-1) } : { items };
}

/**
 * The `Link` header (RFC 8288) of a list's page when more items follow: this request's
 * URL with `cursor` set to the last item's position and `page` dropped (the cursor says
 * where to go on from; filters and `per_page` stay). A path-absolute reference, resolved
 * against the request's own URL, so it holds behind any host name.
 */
export function nextLink(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl);
  url.searchParams.delete("page");
  url.searchParams.set("cursor", cursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}

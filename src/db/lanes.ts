import { LIVE_SQL } from "./delivery-state";

/*
 * Ordered delivery's lanes, in SQL (the rule they serve: src/flow/lanes.ts). Below the
 * folders that create deliveries (intake, replay, operational events, channels), which
 * all write a new delivery's lane the same way.
 */

/**
 * SQL: the head of the lane `lane` of channel `channel` (SQL expressions of the outer
 * statement): its live delivery with the lowest id. Only the head may start.
 */
export const sqlLaneHead = (channel: string, lane: string) =>
  `(select min(l.id) from deliveries as l where l.channel_id = ${channel} and l.lane = ${lane} and l.status in ${LIVE_SQL})`;

/** A channel's `Ordering` as stored (JSON in `channels.ordering`) and as the API shows it. */
export type Ordering = { Key: string | null } | null;

/**
 * SQL for a new delivery's lane: `channel` names the channels row, `body` an SQL
 * expression for the event's body, read only for a channel ordered by a key. Null on a
 * channel without `Ordering`. The key is a dotted path of plain names (checked where it is
 * set), quoted here for SQLite's JSON path: `Message.ID` → `$."Message"."ID"`.
 */
export const sqlLane = (channel: string, body: string) => `
  case when ${channel}.ordering is null then null
       when ${channel}.ordering->>'Key' is null then ''
       else coalesce(cast(json_extract(${body}, '$."' || replace(${channel}.ordering->>'Key', '.', '"."') || '"') as text), '')
  end`;

/**
 * Payload filters (contract: Routing), Convoy's operator set on dotted paths of the event
 * as the portal sent it (`Event`, `Message`, `Timestamp`):
 *
 *   {"Message.OrgID": 7}                        equal (an array field: contains)
 *   {"Message": {"OrgID": {"$gte": 7}}}         a nested object stands for the same paths
 *   {"$or": [{"Event": "UserRegistered"}, …]}   $and / $or of filters
 *
 * Operators: $eq $neq $gt $gte $lt $lte (numbers, RFC 3339 times) $in $nin (arrays) $exist
 * (boolean). No regular expressions, and judging an event is linear in the sizes of the event
 * and the filter (see `EventIndex`).
 *
 * `checkFilter` finds every problem with the path named; `compileFilter` turns a checked
 * filter into a function that never throws, whatever the event.
 */
export { EventIndex } from "./event-index";
export { checkFilter } from "./filter-check";
export { compileFilter, type Predicate } from "./filter-compile";

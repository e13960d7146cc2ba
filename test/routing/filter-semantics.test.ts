/** What a payload filter matches, operator by operator, what it refuses, and properties that hold for any filter and event. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkFilter, compileFilter } from "../../src/routing/filter";
import { event } from "./sample-data";

describe("Filter semantics", () => {
  it.each([
    ["plain value equal", { "Message.OrgID": 7 }, true],
    ["plain value not equal", { "Message.OrgID": 8 }, false],
    ["nested object for the same path", { Message: { OrgID: 7, Status: "pending" } }, true],
    ["the event type", { Event: "AccessRequestCreated" }, true],
    ["array field contains the value", { "Message.ProductIDs": 2 }, true],
    ["array field lacks the value", { "Message.ProductIDs": 3 }, false],
    ["$eq", { "Message.PlanID": { $eq: 7 } }, true],
    ["$neq", { "Message.PlanID": { $neq: 7 } }, false],
    ["$neq on a missing path", { "Message.Nope": { $neq: 1 } }, true],
    ["$gt", { "Message.ID": { $gt: 11 } }, true],
    ["$gte equal", { "Message.ID": { $gte: 12 } }, true],
    ["$lt", { "Message.ID": { $lt: 12 } }, false],
    ["$lte", { "Message.ID": { $lte: 12 } }, true],
    ["$gt and $lt together", { "Message.ID": { $gt: 10, $lt: 20 } }, true],
    ["$gt on a time", { Timestamp: { $gt: "2024-01-01T00:00:00Z" } }, true],
    ["$lt on a time with an offset", { "Message.CreatedAt": { $lt: "2024-04-22T18:00:00+02:00" } }, false],
    ["$gt on a string field: type mismatch", { "Message.Status": { $gt: 1 } }, false],
    ["$gt on a missing path", { "Message.Nope": { $gt: 1 } }, false],
    ["$in", { "Message.PlanID": { $in: [1, 7] } }, true],
    ["$in against an array field", { "Message.Tags": { $in: ["us", "eu"] } }, true],
    ["$nin", { "Message.PlanID": { $nin: [1, 7] } }, false],
    ["$nin on a missing path", { "Message.Nope": { $nin: [1] } }, true],
    ["$exist true", { "Message.AppID": { $exist: true } }, true],
    ["$exist false", { "Message.Nope": { $exist: false } }, true],
    ["$exist on null", { "Message.AppID": { $exist: false } }, false],
    ["type mismatch on equal", { "Message.OrgID": "7" }, false],
    ["$or", { $or: [{ "Message.OrgID": 1 }, { "Message.OrgID": 7 }] }, true],
    ["$and", { $and: [{ "Message.OrgID": 7 }, { "Message.PlanID": 8 }] }, false],
    ["$or nested in $and", { $and: [{ Event: "AccessRequestCreated" }, { $or: [{ "Message.Status": "approved" }, { "Message.ByUser": { $lte: 5 } }] }] }, true],
    ["every key must match", { "Message.OrgID": 7, "Message.PlanID": 8 }, false],
    ["a path through a non-object", { "Message.OrgID.x": 7 }, false],
    ["an inherited property is not a path", { "Message.constructor": { $exist: true } }, false],
    ["an empty filter matches everything", {}, true],
  ])("%s", (_name, filter, matches) => {
    expect(checkFilter(filter)).toEqual([]);
    expect(compileFilter(filter as never)(event)).toBe(matches);
  });

  it.each([
    [[], [["Filter", "must be an object (or null)"]]],
    [{ "Message.OrgID": { $gt: "seven" } }, [["Filter.Message.OrgID", "$gt needs a number or an RFC 3339 time"]]],
    [{ "Message.OrgID": { $in: 7 } }, [["Filter.Message.OrgID", "$in needs an array"]]],
    [{ "Message.OrgID": { $exist: 1 } }, [["Filter.Message.OrgID", "$exist needs true or false"]]],
    [{ "Message.OrgID": { $regex: ".*" } }, [["Filter.Message.OrgID", expect.stringMatching(/^\$regex is not an operator/)]]],
    [{ $and: {} }, [["Filter.$and", "$and needs a non-empty array of filters"]]],
    [{ $or: [{ "Message.ID": { $lt: [] } }] }, [["Filter.$or.0.Message.ID", "$lt needs a number or an RFC 3339 time"]]],
    [{ $eq: 1 }, [["Filter.$eq", expect.stringMatching(/must be inside a field's condition/)]]],
    [{ "Message..ID": 1 }, [["Filter.Message..ID", "must be a dotted path like Message.OrgID"]]],
    [{ Message: { OrgID: 1, $gt: 2 } }, [["Filter.Message", "must hold either operators or fields, not both"]]],
    [{ a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }, [["Filter", "must be at most 8 levels deep"]]],
    [{ "Message.Name": { $in: Array(2000).fill("x") } }, [["Filter", "must be at most 4096 bytes"]]],
  ])("refuses %j", (filter, problems) => {
    expect(checkFilter(filter)).toEqual(problems);
  });

  const json = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("OrgID", "ID", "Tags", "Name"), tie("value"), { maxKeys: 3 }),
    ),
  })).value;
  const leaf = fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constantFrom("pending", "eu", "2024-04-22T16:38:54Z"));
  const condition = fc.oneof(
    leaf,
    fc.record({ $eq: leaf }),
    fc.record({ $gt: fc.integer() }),
    fc.record({ $in: fc.array(leaf, { minLength: 1, maxLength: 3 }) }),
    fc.record({ $exist: fc.boolean() }),
  );
  const filter = fc.dictionary(fc.constantFrom("Message.OrgID", "Message.ID", "Message.Tags", "Event", "Message.Status"), condition, {
    minKeys: 1,
    maxKeys: 3,
  });
  const events = fc.record({ Event: fc.constantFrom("AccessRequestCreated", "UserRegistered"), Message: json, Timestamp: fc.string() });

  it("never throws, whatever the event", () => {
    fc.assert(
      fc.property(filter, fc.anything(), (f, e) => typeof compileFilter(f as never)(e) === "boolean"),
      { numRuns: 300 },
    );
  });

  it("$and of a filter with itself matches exactly what the filter matches", () => {
    fc.assert(
      fc.property(filter, events, (f, e) => compileFilter({ $and: [f, f] } as never)(e) === compileFilter(f as never)(e)),
      { numRuns: 300 },
    );
  });

  it("{$in: [v]} matches exactly what {$eq: v} matches", () => {
    fc.assert(
      fc.property(
        leaf,
        events,
        (v, e) => compileFilter({ "Message.OrgID": { $in: [v] } } as never)(e) === compileFilter({ "Message.OrgID": { $eq: v } } as never)(e),
      ),
      { numRuns: 300 },
    );
  });
});

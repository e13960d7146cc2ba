/** Judging filters costs work in proportion to the event and the filters, never their product. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { compileFilter, EventIndex } from "../../src/routing/filter";
import { recordingQueue } from "../doubles";
import { createChannel, postEvent, target } from "../helpers";
import { junk, upTo } from "./sample-data";

describe("Judging filters is bounded", () => {
  // 131,000 zeros: the 256 KiB event of the report.
  const event = { Event: "RegisterInvite", Message: { Email: "a@example.com", Junk: junk(131_000) }, Timestamp: "2024-04-22T16:38:54Z" };
  const ITEMS = 131_000;

  it("judges a 131,000-item array against ten 2,035-value $in filters in one pass over the array", () => {
    const filters = junk(10).map(() => compileFilter({ "Message.Junk": { $in: upTo(2035) } }));
    const index = new EventIndex();
    expect(filters.map((f) => f(event, index))).toEqual(junk(10, false));
    // Before: 10 × 2,035 × 131,000 = 2.7 × 10⁹ comparisons. Now the array is indexed once.
    expect(index.work).toBeLessThanOrEqual(ITEMS + 10 * 2);
  });

  it.each([
    ["$nin", { "Message.Junk": { $nin: upTo(2035) } }, true],
    ["equality on an array field (contains)", { "Message.Junk": 1 }, false],
    ["$eq on an array field", { "Message.Junk": { $eq: 0 } }, true],
    ["$neq on an array field", { "Message.Junk": { $neq: 0 } }, false],
    ["$eq with an array (the whole array)", { "Message.Junk": { $eq: [0, 0] } }, false],
    ["$in of arrays", { "Message.Junk": { $in: [[0], [1], [0, 0]] } }, false],
    ["$in of objects", { "Message.Junk": { $in: [{ a: 1 }, { b: 2 }] } }, false],
    ["$or of 40 branches", { $or: upTo(40).map((i) => ({ "Message.Junk": { $in: [i, i + 100] } })) }, false],
    ["$and of $or, nested", { $and: upTo(8).map((i) => ({ $or: [{ "Message.Junk": i }, { "Message.Junk": { $nin: [i] } }] })) }, true],
    ["a nested object for the path", { Message: { Junk: { $in: upTo(500) } } }, false],
  ])("%s: within the bound", (_name, filter, matches) => {
    const index = new EventIndex();
    for (let i = 0; i < 10; i++) expect(compileFilter(filter as never)(event, index)).toBe(matches);
    // Each array indexed or keyed once; each condition a lookup per operand at most.
    expect(index.work).toBeLessThanOrEqual(2 * ITEMS + 10 * JSON.stringify(filter).length);
  });

  it("keys an array of objects once, however many filters compare with it", () => {
    const objects = { Message: { Items: junk(20_000, { SKU: "x", Qty: 1 }) } };
    const index = new EventIndex();
    for (let i = 0; i < 10; i++) {
      expect(compileFilter({ "Message.Items": { $in: [{ Qty: 1, SKU: "x" }] } })(objects, index)).toBe(true);
      expect(compileFilter({ "Message.Items": { $nin: upTo(300).map((q) => ({ SKU: "y", Qty: q })) } })(objects, index)).toBe(true);
    }
    expect(index.work).toBeLessThanOrEqual(2 * 20_000 + 10 * 2 * 302);
  });

  it("keeps JSON equality: numbers are not strings, keys in any order, arrays in order", () => {
    const e = { Message: { A: [1, "2", { x: 1, y: [2, 3] }], B: { y: [2, 3], x: 1 } } };
    const test = (f: object) => compileFilter(f as never)(e);
    expect(test({ "Message.A": "1" })).toBe(false);
    expect(test({ "Message.A": 2 })).toBe(false);
    expect(test({ "Message.A": { $in: ["2"] } })).toBe(true);
    expect(test({ "Message.A": { $eq: { y: [2, 3], x: 1 } } })).toBe(true);
    expect(test({ "Message.A": { $eq: { y: [3, 2], x: 1 } } })).toBe(false);
    expect(test({ "Message.B": { $in: [{ x: 1, y: [2, 3] }] } })).toBe(true);
    expect(test({ "Message.A": { $eq: [1, "2", { y: [2, 3], x: 1 }] } })).toBe(true);
  });

  it("routes the report's event at intake: ten paused filtered channels, a 256 KiB array", async () => {
    // The report's filter, within the 4 KiB limit.
    const filter = { "Message.Junk": { $in: upTo(800) } };
    const channels = await Promise.all(junk(10).map(() => createChannel({ URL: target(), Events: ["RegisterInvite"], Paused: true, Filter: filter })));
    const body = JSON.stringify({ ...event, Message: { ...event.Message, Email: `${crypto.randomUUID()}@example.com` } });
    expect(body.length).toBeLessThanOrEqual(256 * 1024);
    const post = () => postEvent(body, {}, { DELIVERIES: recordingQueue() });
    const res = await post();
    expect(res.status).toBe(202);
    const { ID } = await res.json<any>();
    const ids = channels.map((c) => c.ID);
    const rows = await env.DB.prepare("select channel_id from deliveries where event_id = ?").bind(ID).all<{ channel_id: string }>();
    expect(rows.results.filter((r) => ids.includes(r.channel_id))).toEqual([]);
  });
});

/* Shared by the routing tests: the event, and arrays to fill events and filters with. */

/** The access request the examples filter and render. */
export const event = {
  Event: "AccessRequestCreated",
  Message: { ID: 12, AppID: 3, ByUser: 5, Status: "pending", ProductIDs: [1, 2], PlanID: 7, CreatedAt: "2024-04-22T16:38:54Z", OrgID: 7, Tags: ["gold", "eu"] },
  Timestamp: "2024-04-22T16:38:54Z",
};

/** `n` copies of `item`. */
export const junk = (n: number, item: unknown = 0) => Array.from({ length: n }, () => item);
/** 1 to `n`. */
export const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

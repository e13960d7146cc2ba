/** POST /events refuses what is not a portal event (auth, media type, size, JSON, each type's shape, times that do not exist), storing nothing. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../doubles";
import { INTAKE, request, uniqueUserRegistered } from "../helpers";
import { post, storedRows } from "./posting";

describe("POST /events", () => {
  describe("refuses what is not a portal event, storing nothing", () => {
    const valid = uniqueUserRegistered();
    const message = JSON.parse(valid).Message;
    const event = (overrides: Record<string, unknown>, msg: Record<string, unknown> = {}) =>
      JSON.stringify({ Event: "UserRegistered", Timestamp: "2024-04-22T16:38:54.082037+02:00", ...overrides, Message: { ...message, ...msg } });

    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["no token", async () => (await post(valid, { Authorization: "" })).res, 401, /^Authorization: /],
      ["a wrong token", async () => (await post(valid, { Authorization: "Bearer nope" })).res, 401, /^Authorization: /],
      ["the admin token", async () => (await post(valid, { Authorization: `Bearer ${env.ADMIN_TOKEN}` })).res, 401, /^Authorization: /],
      ["text/plain", async () => (await post(valid, { "Content-Type": "text/plain" })).res, 415, /^Content-Type: /],
      ["a form", async () => (await post("a=b", { "Content-Type": "application/x-www-form-urlencoded" })).res, 415, /^Content-Type: /],
      ["more than 256 KiB", async () => (await post(event({}, { Pad: "x".repeat(256 * 1024) }))).res, 413, /^body: /],
      ["malformed JSON", async () => (await post('{"Event": "UserRegistered",')).res, 400, /^body: /],
      // Bytes, not a string: past postEvent, which takes text.
      [
        "invalid UTF-8",
        () =>
          request(
            "/events",
            { method: "POST", headers: { ...INTAKE, "Content-Type": "application/json" }, body: new Uint8Array([0x7b, 0xff, 0x7d]) },
            { DELIVERIES: recordingQueue() },
          ),
        400,
        /^body: /,
      ],
      ["a JSON array", async () => (await post("[]")).res, 422, /^body: /],
      ["an unknown Event", async () => (await post(event({ Event: "UserExploded" }))).res, 422, /^Event: /],
      ["a missing Event", async () => (await post(event({ Event: undefined }))).res, 422, /^Event: /],
      ["a Timestamp that is not RFC 3339", async () => (await post(event({ Timestamp: "22/04/2024" }))).res, 422, /^Timestamp: /],
      ["a Timestamp with 10 fractional digits", async () => (await post(event({ Timestamp: "2024-04-22T16:38:54.0820370000Z" }))).res, 422, /^Timestamp: /],
      [
        "a Message that is not an object",
        async () => (await post(JSON.stringify({ Event: "UserRegistered", Message: "hi", Timestamp: "2024-04-22T16:38:54Z" }))).res,
        422,
        /^Message: /,
      ],
      ["an ID that is a string", async () => (await post(event({}, { ID: "29" }))).res, 422, /^Message\.ID: /],
      ["a missing Email", async () => (await post(event({}, { Email: undefined }))).res, 422, /^Message\.Email: /],
      ["a bad CreatedAt", async () => (await post(event({}, { CreatedAt: "yesterday" }))).res, 422, /^Message\.CreatedAt: /],
      [
        "a CustomAttributes entry of the wrong type",
        async () => (await post(event({}, { CustomAttributes: [{ Identifier: 1, Value: "x" }] }))).res,
        422,
        /^Message\.CustomAttributes\.0\.Identifier: /,
      ],
      [
        "ProductIDs holding a string",
        async () =>
          (
            await post(
              JSON.stringify({
                Event: "AccessRequestApproved",
                Timestamp: "2024-04-18T13:48:08Z",
                Message: { ID: 1, AppID: 3, ByUser: 3, Status: "approved", ProductIDs: ["1"], PlanID: 2, CreatedAt: "2024-04-18T13:36:02Z" },
              }),
            )
          ).res,
        422,
        /^Message\.ProductIDs\.0: /,
      ],
      ["a bad Idempotency-Key", async () => (await post(valid, { "Idempotency-Key": "a b" })).res, 422, /^Idempotency-Key: /],
      // Times must exist (RFC 3339): never read as another time.
      [
        "a Timestamp on 31 February",
        async () => (await post(event({ Timestamp: "2024-02-31T10:00:00Z" }))).res,
        422,
        /^Timestamp: must be a date that exists: February 2024 has 29 days$/,
      ],
      [
        "a Timestamp on a leap second",
        async () => (await post(event({ Timestamp: "2024-06-30T23:59:60Z" }))).res,
        422,
        /^Timestamp: must be a time that exists: second 60 \(a leap second\) is not accepted$/,
      ],
      ["a Timestamp in month 13", async () => (await post(event({ Timestamp: "2024-13-01T10:00:00Z" }))).res, 422, /^Timestamp: must be a date that exists/],
      [
        "a CreatedAt on 29 February of a common year",
        async () => (await post(event({}, { CreatedAt: "2023-02-29T10:00:00Z" }))).res,
        422,
        /^Message\.CreatedAt: must be a date that exists: February 2023 has 28 days$/,
      ],
    ];

    it.each(cases)("%s", async (_name, send, status, field) => {
      const before = await storedRows();
      const res = await send();
      expect(res.status).toBe(status);
      const body = await res.json<any>();
      expect(body.errors.length).toBeGreaterThan(0);
      expect(body.errors[0]).toMatch(field);
      expect(await storedRows()).toEqual(before);
    });
  });
});

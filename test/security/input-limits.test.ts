/**
 * Input built to hurt, and what stops it: size and item limits, nesting depth, a key given
 * twice, unknown fields. Each is a short 4xx naming the field, never a 500, storing nothing.
 */
import { describe, expect, it } from "vitest";
import { MAX_ERRORS } from "../../src/core/errors";

import { recordingQueue } from "../doubles";
import { api, appWith, count, createChannel, errorsOf, seed } from "../helpers";

const { post } = appWith({ DELIVERIES: recordingQueue() });
const userRegistered = JSON.parse(seed.find((s) => s.type === "UserRegistered")!.body);

describe("big and deep invalid input", () => {
  it("answers 70,000 empty CustomAttributes with a short 422, not a 500", async () => {
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, CustomAttributes: Array(70_000).fill({}) } });
    const before = await count("events");
    const res = await post(body);
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text.length).toBeLessThan(2000);
    expect(JSON.parse(text).errors).toEqual(["Message.CustomAttributes: must hold at most 1000 items"]);
    expect(await count("events")).toBe(before);
  });

  it("caps the error list at 20 and says how many more there were", async () => {
    // 30 bad items, each with two problems: 60 in all.
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, CustomAttributes: Array(30).fill({}) } });
    const res = await post(body);
    expect(res.status).toBe(422);
    const errors = await errorsOf(res);
    expect(errors).toHaveLength(MAX_ERRORS);
    expect(errors[0]).toMatch(/^Message\.CustomAttributes\.0\.Identifier: /);
    expect(errors[MAX_ERRORS - 1]).toBe("body: 41 more problems not shown");
  });

  it("answers 150,000 invalid Events with a short 422", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x", URL: "https://crm.example.com/", Events: Array(150_000).fill("x") });
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Events: must hold at most 100 items"]);
  });

  it("refuses an admin body over 1 MiB with 413", async () => {
    const res = await api("POST", "/portal-api/webhooks", { Name: "x".repeat(1024 * 1024), URL: "https://crm.example.com/", Events: ["UserRegistered"] });
    expect(res.status).toBe(413);
    expect(await errorsOf(res)).toEqual(["body: larger than 1 MiB"]);
  });

  it("answers a deeply nested admin body with 422, not a 500", async () => {
    const res = await api("PATCH", "/portal-api/webhooks/nope", "[".repeat(300_000) + "]".repeat(300_000));
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["body: nested deeper than 64 levels"]);
  });

  it("refuses an event nested deeper than 64 levels, naming the field", async () => {
    const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
    const body = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, Extra: deep(70) } });
    const before = await count("events");
    const res = await post(body);
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Message.Extra: nested deeper than 64 levels"]);
    expect(await count("events")).toBe(before);
    // 60 levels is fine: unknown fields are kept.
    const ok = JSON.stringify({ ...userRegistered, Message: { ...userRegistered.Message, ID: Date.now(), Extra: deep(60) } });
    expect((await post(ok)).status).toBe(202);
  });
});

describe("a key given twice", () => {
  const rest = `"Message":${JSON.stringify(JSON.parse(seed.find((s) => s.type === "OrganisationRegistered")!.body).Message)},"Timestamp":"2024-04-22T16:38:54Z"`;
  it.each([
    ["two Events", `{"Event":"OrganisationRegistered","Event":"UserRegistered",${rest}}`, "Event: key given twice; each key may appear once"],
    [
      "two Events, one escaped",
      `{"Event":"OrganisationRegistered","\\u0045vent":"UserRegistered",${rest}}`,
      "Event: key given twice; each key may appear once",
    ],
    [
      "a Message field twice",
      `{"Event":"OrganisationRegistered","Message":{"ID":1,"ID":2,"Name":"x","CreatedAt":"2024-04-22T16:38:54Z"},"Timestamp":"2024-04-22T16:38:54Z"}`,
      "Message.ID: key given twice; each key may appear once",
    ],
  ])("refuses %s at intake with 422, storing nothing", async (_name, body, error) => {
    const before = await count("events");
    const res = await post(body);
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual([error]);
    expect(await count("events")).toBe(before);
  });

  it("refuses a repeated field in an admin body", async () => {
    const res = await api("POST", "/portal-api/webhooks", '{"Name":"a","Name":"b","URL":"https://crm.example.com/","Events":["UserRegistered"]}');
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toEqual(["Name: key given twice; each key may appear once"]);
  });

  it("keeps the same key in different objects", async () => {
    const body = JSON.stringify({
      ...userRegistered,
      Message: {
        ...userRegistered.Message,
        ID: Date.now(),
        CustomAttributes: [
          { Identifier: "a", Value: "1" },
          { Identifier: "b", Value: "2" },
        ],
      },
    });
    expect((await post(body)).status).toBe(202);
  });
});

describe("unknown fields", () => {
  it.each([
    [
      "POST /webhooks",
      "POST",
      "/portal-api/webhooks",
      { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Fitler: {} },
      "Fitler: unknown field",
    ],
    ["PATCH /webhooks/{id}", "PATCH", "/portal-api/webhooks/ID", { Enabeld: false }, "Enabeld: unknown field"],
    [
      "a header in Headers",
      "POST",
      "/portal-api/webhooks",
      { Name: "x", URL: "https://crm.example.com/", Events: ["UserRegistered"], Headers: [{ Name: "X-A", Value: "1", Secret: true }] },
      "Headers.0.Secret: unknown field",
    ],
    ["POST /headers", "POST", "/portal-api/webhooks/ID/headers", { Name: "X-A", Value: "1", Valeu: "2" }, "Valeu: unknown field"],
    ["POST /recover", "POST", "/portal-api/webhooks/ID/recover", { Since: "2024-01-01T00:00:00Z", Untill: "x" }, "Untill: unknown field"],
  ])("%s answers 422 naming the field", async (_name, method, path, body, error) => {
    const channel = await createChannel();
    const res = await api(method, path.replace("ID", channel.ID), body);
    expect(res.status).toBe(422);
    expect(await errorsOf(res)).toContain(error);
  });
});

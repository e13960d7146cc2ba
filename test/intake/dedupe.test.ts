/** POST /events dedupes: a byte-identical body within 24 hours, and a repeated Idempotency-Key. */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { countingD1 } from "../doubles";
import { count, uniqueUserRegistered } from "../helpers";
import { insertChannel, noChannels, post, storedRows } from "./posting";

beforeEach(noChannels);

describe("POST /events", () => {
  it("answers a byte-identical body within 24 hours as a duplicate, with no new deliveries", async () => {
    await insertChannel(["UserRegistered"]);
    const body = uniqueUserRegistered();
    const first = await post(body);
    const { ID } = await first.res.json<any>();
    const before = await storedRows();

    const again = await post(body);
    expect(again.res.status).toBe(200);
    expect(await again.res.json()).toEqual({ ID, Deliveries: 1, Duplicate: true });
    expect(again.queue.ids).toEqual([]);
    expect(await storedRows()).toEqual(before);
  });

  it("answers a repeated Idempotency-Key with the same body as a duplicate", async () => {
    await insertChannel(["UserRegistered"]);
    const key = crypto.randomUUID();
    const body = uniqueUserRegistered();
    const first = await post(body, { "Idempotency-Key": key });
    const { ID } = await first.res.json<any>();
    const before = await storedRows();
    const again = await post(body, { "Idempotency-Key": key });
    expect(again.res.status).toBe(200);
    expect(await again.res.json()).toEqual({ ID, Deliveries: 1, Duplicate: true });
    expect(await storedRows()).toEqual(before);
  });

  it("refuses a repeated Idempotency-Key with another body (422, the IETF draft), storing nothing, in one round trip", async () => {
    await insertChannel(["UserRegistered"]);
    const key = crypto.randomUUID();
    const first = await post(uniqueUserRegistered(), { "Idempotency-Key": key });
    expect(first.res.status).toBe(202);
    const before = await storedRows();
    const { db, counter } = countingD1(env.DB);
    const other = uniqueUserRegistered();
    const again = await post(other, { "Idempotency-Key": key }, { DB: db });
    expect(again.res.status).toBe(422);
    expect(await again.res.json()).toEqual({ errors: ["Idempotency-Key: already used for another body"] });
    expect(again.queue.ids).toEqual([]);
    expect(counter.roundTrips).toBe(1);
    expect(await storedRows()).toEqual(before);
    expect(await count("events", "body = ?", other)).toBe(0);
    // Even when the new body is itself a duplicate of another event: the key names one request.
    const third = await post(uniqueUserRegistered(), { "Idempotency-Key": crypto.randomUUID() });
    expect(third.res.status).toBe(202);
    const reused = await post(other, { "Idempotency-Key": key });
    expect(reused.res.status).toBe(422);
    // Another key, or none, for the new body is a new event.
    expect((await post(other, { "Idempotency-Key": crypto.randomUUID() })).res.status).toBe(202);
  });

  it("accepts one of many identical bodies posted at once; the others are duplicates of it, in one round trip each", async () => {
    await insertChannel(["UserRegistered"]);
    const body = uniqueUserRegistered();
    const { db, counter } = countingD1(env.DB);
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(body, {}, { DB: db })));
    const statuses = answers.map((a) => a.res.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 202]);
    const jsons = await Promise.all(answers.map((a) => a.res.json<any>()));
    expect(new Set(jsons.map((j) => j.ID)).size).toBe(1);
    expect(jsons.filter((j) => j.Duplicate)).toHaveLength(5);
    expect(answers.flatMap((a) => a.queue.ids)).toHaveLength(1);
    expect(await count("events", "id = ?", jsons[0].ID)).toBe(1);
    expect(await count("deliveries", "event_id = ?", jsons[0].ID)).toBe(1);
    expect(counter.roundTrips).toBe(6);
  });

  it("accepts the same body again once the 24-hour window has passed", async () => {
    const body = uniqueUserRegistered();
    const first = await post(body);
    const { ID } = await first.res.json<any>();
    await env.DB.prepare("update events set received_at = ? where id = ?")
      .bind(Date.now() - 24 * 3600_000 - 1, ID)
      .run();
    const again = await post(body);
    expect(again.res.status).toBe(202);
    expect((await again.res.json<any>()).ID).not.toBe(ID);
  });
});

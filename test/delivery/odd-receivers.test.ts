/** Receivers that answer oddly: a 2xx whose body is slow, interim 1xx responses before the final one. */
import { describe, expect, it } from "vitest";
import { api, attemptsOf, consume, createChannel, delivery, makeDelivery, receivedAt, target } from "../helpers";

describe("a receiver that answers oddly", () => {
  it("a 2xx whose body is slow is a success: decided on the status, the excerpt is what arrived in time", async () => {
    const url = target("slowbody/3000");
    const channel = await createChannel({ URL: url, Timeout: 1 });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200, last_error: null });
    expect(await attemptsOf(deliveryId)).toMatchObject([{ attempt: 1, status_code: 200, error: null, response_body: "a" }]);
    expect(await receivedAt(url)).toHaveLength(1);
  });

  it("test-event: a 2xx whose body is slow is a success too", async () => {
    const channel = await createChannel({ URL: target("slowbody/3000"), Timeout: 1 });
    const res = await api("POST", `/portal-api/webhooks/${channel.ID}/test-event`, { Event: "UserRegistered" });
    expect(await res.json()).toMatchObject({ Success: true, StatusCode: 200, Error: null, ResponseBody: "a" });
  });

  it.each(["100", "102", "103"])("an interim %s before the 200 is never the final status", async (code) => {
    const url = target(`interim/${code}`);
    const channel = await createChannel({ URL: url });
    const { deliveryId } = await makeDelivery(channel.ID);
    const result = await consume([deliveryId]);
    expect(result.acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200 });
    expect(await attemptsOf(deliveryId)).toMatchObject([{ status_code: 200, error: null, response_body: "ok after interim" }]);
    expect(await receivedAt(url)).toHaveLength(1);
  });
});

describe("a receiver that answers late after an interim response", () => {
  it("102 Processing, then 200 seconds later but within the timeout, is a success", async () => {
    const url = target("interimslow/2500");
    const channel = await createChannel({ URL: url, Timeout: 10 });
    const { deliveryId } = await makeDelivery(channel.ID);
    expect((await consume([deliveryId])).acked).toEqual(["msg-0"]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200 });
    const [attempt] = await attemptsOf(deliveryId);
    expect(attempt).toMatchObject({ status_code: 200, response_body: "ok after a wait" });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(2000);
  });

  it("102 Processing and no final answer within the timeout is a timeout", async () => {
    const channel = await createChannel({ URL: target("interimslow/5000"), Timeout: 1 });
    const { deliveryId } = await makeDelivery(channel.ID);
    await consume([deliveryId]);
    expect(await delivery(deliveryId)).toMatchObject({ status: "retrying", last_status_code: null });
    expect((await delivery(deliveryId)).last_error).toMatch(/^timeout: the target sent an interim 102 response and no final one within the timeout \(1s\)$/);
  });
});

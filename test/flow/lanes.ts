import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type appWith, createChannel } from "../helpers";
import type { Received } from "../receiver";

/*
 * What the end-to-end tests of ordered delivery and pacing share: events numbered within
 * a lane, a check that a lane's arrivals kept its order, and time passing for a channel.
 * They run events posted to intake through the real consumer and sequencer, a queue run in
 * the test (test/queue-driver.ts) and a real local target (test/receiver.ts).
 */

/** Retries at once, eight times: a failing target's lane moves at the speed of the test. */
export const QUICK_RETRIES = { RETRY_SCHEDULE: "0,0,0,0,0,0,0,0" };

let posted = 0;
/** A portal event whose `Message.ID` is `key` (its lane) and whose `Message.Seq` numbers it. */
export function event(key: number, seq: number, extra: Record<string, unknown> = {}) {
  posted++;
  return JSON.stringify({
    Event: "OrganisationRegistered",
    Message: { ID: key, Seq: seq, Name: `Org ${posted}-${crypto.randomUUID()}`, CreatedAt: "2024-04-18T16:12:09.8437+02:00", ...extra },
    Timestamp: new Date().toISOString(),
  });
}

/**
 * Each test's channel alone receives its events: the channels and deliveries of the tests
 * before it (a file shares one database) are put out of the way. For `beforeEach`.
 */
export async function putEarlierTestsAside() {
  await env.DB.batch([
    env.DB.prepare("update channels set enabled = 0"),
    env.DB.prepare("update deliveries set status = 'cancelled', next_attempt_at = null where status in ('pending', 'retrying', 'held')"),
  ]);
}

export const seqOf = (r: Received) => JSON.parse(r.body).Message.Seq as number;

/**
 * Checks one lane's arrivals: events first arrive in the order posted, and none arrives
 * before the answer to the last attempt of the event before it was sent (it had ended).
 */
export function expectInOrder(arrivals: Received[], seqs: number[]) {
  const firsts = seqs.map((s) => arrivals.find((a) => seqOf(a) === s)!);
  expect(firsts.every(Boolean), "every event arrived").toBe(true);
  expect([...firsts].sort((a, b) => a.at - b.at).map(seqOf)).toEqual(seqs);
  for (let i = 1; i < seqs.length; i++) {
    const before = arrivals.filter((a) => seqOf(a) === seqs[i - 1]);
    const lastBefore = Math.max(...before.map((a) => a.done ?? Number.POSITIVE_INFINITY));
    expect(firsts[i]!.at, `event ${seqs[i]} started before event ${seqs[i - 1]} ended`).toBeGreaterThanOrEqual(lastBefore);
  }
}

/** Time passes for the channel's deliveries: every due time moves `ms` into the past. */
export async function passes(ms: number, channelId: string) {
  await env.DB.prepare(
    "update deliveries set next_attempt_at = next_attempt_at - ?1, updated_at = updated_at - ?1 where channel_id = ?2 and next_attempt_at is not null",
  )
    .bind(ms, channelId)
    .run();
}

export async function orderedChannel(url: string, fields: Record<string, unknown> = {}) {
  return createChannel({ URL: url, Events: ["OrganisationRegistered"], Ordering: { Key: null }, ...fields });
}

/** Posts an event through `app` (its queue in place of the real one); its ID. */
export async function post(app: ReturnType<typeof appWith>, body: string) {
  const res = await app.post(body);
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json<{ ID: string }>()).ID;
}

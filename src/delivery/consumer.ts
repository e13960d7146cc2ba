import { type Config, config, type Env } from "../core/env";
import { errorText, log } from "../core/log";
import { BATCH_RETRY, withD1Retry } from "../db/d1-retry";
import { hasEnded } from "../db/delivery-state";
import type { BatchData, DeliveryMessage, Handled, Sendable, Triaged } from "../db/records";
import { StartChecks } from "../flow/recheck";
import { paceRateLimited, parkBehindLaneHeads, settleLanes } from "../flow/steps";
import { enqueueCommitted } from "../queue/enqueue";
import { type SecretBox, secretBox } from "../security/secret-box";
import { loadBatch, recordBatch } from "./batch-sql";
import { collectWrites } from "./batch-writes";
import { CRASH_RETRY_SECONDS, crashed, judgeAttempt, triage } from "./decide";
import { buildFault, buildRequest, callTarget } from "./request";
import { sendBackLater } from "./stall";

/** Workers allow 6 simultaneous outbound connections per invocation; more would wait in
 * line while their timeouts already run. */
const MAX_CONCURRENT_CALLS = 6;

/**
 * The delivery pipeline for one batch: load everything (one D1 read), send every due
 * delivery concurrently, record every attempt and change (one D1 write), then ack or retry
 * each message. No message's failure makes the batch throw, since Queues would then
 * redeliver the whole batch.
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  let cfg: Config;
  let data: BatchData;
  let readAt: number;
  let box: SecretBox;
  try {
    // A bad var (logged by config()) holds the batch back rather than act on a wrong schedule.
    cfg = config(env);
    box = await secretBox(env);
  } catch (err) {
    log.error("consumer could not start on its batch", { messages: batch.messages.length, error: errorText(err) });
    batch.retryAll({ delaySeconds: CRASH_RETRY_SECONDS });
    return;
  }
  try {
    const messages = batch.messages.map((m) => m.body).filter((body) => Boolean(body?.deliveryId && body.channelId));
    data = await withD1Retry(() => loadBatch(env.DB, messages), BATCH_RETRY);
    readAt = Date.now();
  } catch (err) {
    // D1's trouble, not the messages': they come back later without spending their retries.
    log.error("consumer could not load its batch", { messages: batch.messages.length, error: errorText(err) });
    await sendBackLater(env.DELIVERIES, batch, "load");
    return;
  }

  // Which messages send at all; of those, which are their lanes' heads, and when their
  // channels' rate limits let them start (src/flow/steps.ts).
  const copies = copiesInBatch(batch.messages);
  const triaged = batch.messages.map(
    (message, i): Triaged =>
      // Two copies of one message in a batch (at-least-once queues): the first one sends.
      copies.has(i) ? { plan: { ack: true } } : triage(message.body, data, cfg),
  );
  parkBehindLaneHeads(triaged);
  await paceRateLimited(
    env,
    triaged,
    batch.messages.map((m) => m.body),
  );

  // Sent in the order of their start times, so a later start does not hold a connection an
  // earlier one needs; one that waited long is checked against D1 again before it starts.
  const handled = new Array<Handled>(triaged.length);
  const checks = new StartChecks(
    env.DB,
    readAt,
    triaged.filter((t): t is Sendable => !("plan" in t) && t.startAt !== undefined),
  );
  const sending = mapConcurrently(triaged, MAX_CONCURRENT_CALLS, startOrder(triaged), async (t, i) => {
    handled[i] = "plan" in t ? t : ((await checks.whenDue(t)) ?? (await sendOne(t, batch.messages[i]!, box, cfg)));
  });

  // A lane's next delivery starts once this one's end is recorded: a slow request elsewhere
  // in the batch must not hold it up, so ends of lanes are recorded early then (one more
  // write, only in a batch that has both).
  const early = new Set<number>();
  const applied = new Set<string>();
  if (triaged.some((t) => !("plan" in t) && t.delivery.lane !== null) && !(await settledWithin(sending, EARLY_RECORD_MS))) {
    const lanes = handled.flatMap((h, i) => (h && (h.park || endsLane(h, data)) ? [i] : []));
    if (lanes.length && (await record(env, lanes, handled, data, applied))) for (const i of lanes) early.add(i);
  }
  await sending;
  const rest = handled.flatMap((_, i) => (early.has(i) ? [] : [i]));
  if (!(await record(env, rest, handled, data, applied))) {
    // Nothing of this batch is recorded: every message comes back later, without spending
    // its retries, and sends again (at least once); none is failed for D1's trouble.
    await sendBackLater(env.DELIVERIES, batch, "record");
    return;
  }
  batch.messages.forEach((message, i) => {
    const { plan, change } = handled[i]!;
    // A retry decided for a run that ended or was replaced meanwhile: its message is done.
    if (plan.ack || (change && !applied.has(change.id))) message.ack();
    else message.retry({ delaySeconds: plan.delaySeconds });
  });
}

/** How long a batch with ordered deliveries waits for all its requests before it records the lanes' ends (ms). */
const EARLY_RECORD_MS = 1000;

/**
 * Writes the attempts and changes of the batch's messages at `positions` (one D1 round
 * trip, retried on D1's transient errors; idempotent, so a try after one whose commit was
 * reported lost does not append an attempt twice), tells the sequencers of ordered
 * channels what parked and ended, and queues what the write committed: rate-limit waits
 * (due then in D1, so if the queue refuses, the sweeper sends them), the lanes' next
 * deliveries, and operational events. Adds the changes applied to `applied`; false if D1
 * could not take the write.
 */
async function record(env: Env, positions: number[], handled: Handled[], data: BatchData, applied: Set<string>): Promise<boolean> {
  const part = positions.map((i) => handled[i]!);
  const now = Date.now();
  const writes = collectWrites(part, data, now);
  let recorded: Awaited<ReturnType<typeof recordBatch>>;
  try {
    recorded = await withD1Retry(() => recordBatch(env.DB, writes, now), BATCH_RETRY);
  } catch (err) {
    log.error("consumer could not record its batch", { messages: positions.length, error: errorText(err) });
    return false;
  }
  for (const id of recorded.applied) applied.add(id);
  const waiting = part.flatMap((h) => (h.resend && h.change && recorded.applied.has(h.change.id) ? [h.resend] : []));
  const woken = await settleLanes(env, part, data, recorded.applied);
  await enqueueCommitted(env.DELIVERIES, [...waiting, ...woken, ...recorded.raised], "rate-limit waits, lanes' next deliveries and operational events");
  return true;
}

/** Whether the delivery's change ends it on an ordered channel: its lane's next one waits for that to be written. */
function endsLane({ change }: Handled, data: BatchData): boolean {
  return Boolean(change && data.deliveries.get(change.id)?.lane != null && hasEnded(change.status));
}

/** Whether `work` is done within `ms`. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([work.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** A sendable message: waits for its start time, sends; an unforeseen error is still a failed attempt. */
async function sendOne(t: Sendable, message: Message<DeliveryMessage>, box: SecretBox, cfg: Config): Promise<Handled> {
  try {
    return await send(t, box, cfg);
  } catch (err) {
    // Not foreseen: still an attempt that failed, with the reason, on the retry schedule.
    log.error("delivery crashed", { deliveryId: message.body?.deliveryId, error: errorText(err) });
    try {
      return judgeAttempt(t.delivery, t.channel, Date.now(), buildFault("config", `internal error: ${errorText(err)}`), cfg);
    } catch {
      return crashed();
    }
  }
}

/** One message that may send, in named steps: build, call, judge. */
async function send({ delivery, channel }: Sendable, box: SecretBox, cfg: Config): Promise<Handled> {
  const startedAt = Date.now();
  const built = await buildRequest(channel, { webhookId: delivery.eventId, body: delivery.body! }, box, cfg.portalUrl, startedAt, cfg);
  if (!built.ok) return judgeAttempt(delivery, channel, startedAt, built, cfg);
  // The URL and body it was built with (placeholders filled in, transformed); one new token on a 401.
  const { result, built: sent } = await callTarget(built, channel.timeoutSeconds * 1000);
  if (result.ok) result.body = sent.mask(result.body);
  return judgeAttempt(delivery, channel, startedAt, result, cfg, sent.sent);
}

/** The positions of messages that repeat an earlier message of the batch (same delivery and generation). */
function copiesInBatch(messages: readonly Message<DeliveryMessage>[]): Set<number> {
  const seen = new Set<string>();
  const copies = new Set<number>();
  messages.forEach((message, i) => {
    if (!message.body?.deliveryId) return;
    const key = `${message.body.deliveryId}/${message.body.generation ?? 0}`;
    if (seen.has(key)) copies.add(i);
    seen.add(key);
  });
  return copies;
}

/** The batch's positions, those with a start time in its order, after the others. */
function startOrder(triaged: readonly Triaged[]): number[] {
  const at = (t: Triaged) => ("plan" in t ? 0 : (t.startAt ?? 0));
  return triaged.map((_, i) => i).sort((a, b) => at(triaged[a]!) - at(triaged[b]!));
}

/** `fn` over `items`, at most `limit` at once, taken in `order` (positions). */
async function mapConcurrently<T>(items: readonly T[], limit: number, order: readonly number[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const i = order[next++]!;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

import type { Handled, Triaged } from "../delivery/decide";
import type { DeliveryMessage } from "../delivery/message";
import type { Env } from "../env";
import { errorText, log } from "../log";
import { admit } from "./rate-limiter";

/**
 * Rate limits: the sendable messages of each rate-limited channel ask its limiter for a
 * start now, in batch order (so a drained backlog keeps its order); those it refuses wait
 * in the queue. Waiting is not an attempt. Channels without a limit are not asked.
 */
export async function holdBackOverLimit(env: Env, triaged: Triaged[]) {
  const wanted = new Map<string, { count: number; limit: number }>();
  for (const t of triaged) {
    if ("plan" in t || t.channel.rateLimit === null) continue;
    const want = wanted.get(t.channel.id) ?? { count: 0, limit: t.channel.rateLimit };
    want.count++;
    wanted.set(t.channel.id, want);
  }
  if (!wanted.size) return;
  const answers = await admit(env.RATE_LIMITER, wanted);
  triaged.forEach((t, i) => {
    if ("plan" in t || t.channel.rateLimit === null) return;
    const answer = answers.get(t.channel.id)!;
    if (answer.granted > 0) answer.granted--;
    else triaged[i] = { plan: { ack: true }, wait: Math.ceil(answer.waitMs / 1000) };
  });
}

/**
 * Messages waiting for their rate limit go back to the queue as new messages, with the
 * wait as their delay: a retry would count towards the queue's max_retries, and a long
 * backlog must never end in the dead-letter queue. If the queue refuses, they are retried.
 */
export async function requeueWaiting(env: Env, messages: readonly Message<DeliveryMessage>[], handled: Handled[]) {
  const waiting = handled.flatMap((h, i) => (h.wait ? [{ i, body: messages[i]!.body, delaySeconds: h.wait }] : []));
  if (!waiting.length) return;
  try {
    await env.DELIVERIES.sendBatch(waiting.map(({ body, delaySeconds }) => ({ body, delaySeconds })));
  } catch (err) {
    log.warn("could not queue rate-limited messages again; retrying them", { messages: waiting.length, error: errorText(err) });
    for (const { i, delaySeconds } of waiting) handled[i] = { plan: { ack: false, delaySeconds } };
  }
}

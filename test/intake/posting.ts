import { env } from "cloudflare:workers";
import { recordingQueue } from "../doubles";
import { type Bindings, count, postEvent } from "../helpers";

/*
 * Shared by the intake tests: POST /events with a queue that records, channels written
 * straight to D1 (each test decides which exist), and what intake stored.
 */

/** Posts to intake with a recording queue (unless `bindings` bring their own): the answer and the queue. */
export async function post(body: string, headers: Record<string, string> = {}, bindings: Bindings = {}) {
  const queue = (bindings.DELIVERIES as ReturnType<typeof recordingQueue>) ?? recordingQueue();
  const res = await postEvent(body, headers, { DELIVERIES: queue, ...bindings });
  return { res, queue };
}

export async function insertChannel(events: string[], enabled = true): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("insert into channels (id, name, url, secret, enabled, created_at, updated_at) values (?, 'c', 'https://example.com/h', 'x', ?, ?, ?)").bind(
      id,
      enabled ? 1 : 0,
      now,
      now,
    ),
    ...events.map((e) => env.DB.prepare("insert into channel_events (event_type, channel_id) values (?, ?)").bind(e, id)),
  ]);
  return id;
}

export async function deliveriesOf(eventId: string) {
  const { results } = await env.DB.prepare("select id, channel_id, status, event_type from deliveries where event_id = ?").bind(eventId).all<any>();
  return results;
}

export async function storedRows() {
  return { events: await count("events"), deliveries: await count("deliveries") };
}

/** Each test decides which channels exist: run before each. */
export async function noChannels() {
  await env.DB.prepare("delete from channels").run();
}

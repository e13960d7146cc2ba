import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { api } from "../helpers";

/* Shared by the integrations tests: the integrations servers, and deliveries of any event type. */

/** The integrations servers (test/integration-targets.ts). */
export const base = () => `http://127.0.0.1:${inject("integrationsPort")}`;
/** A key of this test's own, for the servers' paths and logs. */
export const fresh = () => crypto.randomUUID().slice(0, 8);

export async function log(prefix: string): Promise<{ method: string; path: string; headers: Record<string, string>; body: string }[]> {
  return (await fetch(`${base()}/__log?prefix=${encodeURIComponent(prefix)}`)).json();
}

/** An event of any type and its delivery to the channel, written to D1 as intake writes them. */
export async function deliveryOf(channelId: string, type: string, body: string) {
  const now = Date.now();
  const eventId = timeOrderedId(now);
  const deliveryId = `${eventId.slice(0, 23)}${timeOrderedId(now).slice(23)}`;
  await env.DB.batch([
    env.DB.prepare("insert into events (id, type, body, received_at) values (?, ?, ?, ?)").bind(eventId, type, body, now),
    env.DB.prepare(
      "insert into deliveries (id, event_id, channel_id, event_type, status, next_attempt_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', ?, ?, ?)",
    ).bind(deliveryId, eventId, channelId, type, now, now, now),
  ]);
  return { eventId, deliveryId };
}

export async function readDelivery(id: string) {
  return (await api("GET", `/portal-api/deliveries/${id}`)).json() as Promise<any>;
}

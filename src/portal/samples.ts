import type { EventType } from "./catalog";
import samples from "./samples.json";

/**
 * One sample Message per event type: the portal's own samples from its webhook
 * documentation (test/fixtures/seed-payloads.json), a RegisterInvite (undocumented by the
 * portal), and the dispatcher's operational events. For Test Connection's richer sibling,
 * "send a test event", and for previews.
 */
export function sampleEvent(type: EventType, now = new Date()): string {
  return JSON.stringify({ Event: type, Message: (samples as Record<EventType, unknown>)[type], Timestamp: now.toISOString() });
}

/** Replay's EventID (the event page's "Send to…"): an event's id, checked as one, and an event that is not stored named. */
import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../../src/db/ids";
import { recordingQueue } from "../doubles";
import { ADMIN, api, count, createChannel, errorsOf, makeDelivery } from "../helpers";

const replayTo = (channelId: string, body: Record<string, unknown>) =>
  api("POST", `/portal-api/webhooks/${channelId}/replay`, body, ADMIN, { DELIVERIES: recordingQueue() });

describe("POST /portal-api/webhooks/{id}/replay with EventID", () => {
  it("a malformed EventID is a 422 naming it, with DryRun or without, and nothing is created", async () => {
    const channel = await createChannel();
    const Since = new Date(Date.now() - 60_000).toISOString();
    // Not an id; a webhook's id (a UUIDv4) in the wrong field; too long for any id.
    for (const EventID of ["nope", channel.ID, `${timeOrderedId(Date.now())}0`, ""]) {
      for (const DryRun of [true, false]) {
        const res = await replayTo(channel.ID, { Since, EventID, DryRun });
        expect([res.status, await errorsOf(res)], `${EventID} ${DryRun}`).toEqual([422, ["EventID: must be an event ID (a UUIDv7)"]]);
      }
    }
    expect(await count("deliveries", "channel_id = ?", channel.ID)).toBe(0);
  });

  it("an event that is not stored is a 404, as GET /portal-api/events/{id} answers", async () => {
    const channel = await createChannel();
    const res = await replayTo(channel.ID, { Since: new Date(Date.now() - 60_000).toISOString(), EventID: timeOrderedId(Date.now()) });
    expect([res.status, await errorsOf(res)]).toEqual([404, ["Event: not found"]]);
  });

  it("a stored event's id, in either case, is replayed", async () => {
    const other = await createChannel();
    const { eventId } = await makeDelivery(other.ID);
    const channel = await createChannel();
    const Since = new Date(Date.now() - 60_000).toISOString();
    const dry = await replayTo(channel.ID, { Since, EventID: eventId.toUpperCase(), DryRun: true });
    expect([dry.status, await dry.json()]).toEqual([200, { WouldCreate: 1 }]);
    const res = await replayTo(channel.ID, { Since, EventID: eventId });
    expect([res.status, await res.json()]).toEqual([202, { Created: 1 }]);
  });
});

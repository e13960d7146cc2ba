// What the bench sends: its scenarios, and the events' bodies (each carries a marker the
// receiver notes, so an event's arrival can be timed).

/** Rounds of each measure (the table shows their medians): `BENCH_ROUNDS`, 5 by default. */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Intake with 1, 10 and 100 subscribed channels: one event type each. */
export const SCENARIOS = [
  { channels: 1, type: "ApplicationRegistered", requests: 800 },
  { channels: 10, type: "CredentialRegistered", requests: 400 },
  { channels: 100, type: "OrganisationRegistered", requests: 100 },
];
/** A delivery burst to one channel: first post to last arrival. */
export const BURST = { type: "UserRegistered", events: 500 };
/**
 * Routing: 100 channels each with a filter, half of them matching (the project only),
 * against 100 channels without one, in the same run.
 */
export const FILTERS = [
  { name: "intake, 100 channels, no filters", type: "PasswordReset", channels: 100, filtered: false, requests: 100 },
  { name: "intake, 100 filtered channels, half matching", type: "UserAccountDeactivated", channels: 50, filtered: true, requests: 100 },
];
/** POST → arrival at light load: one event at a time, this far apart. */
export const LIGHT = { type: "UserRegistered", events: 60, gapMs: 25 };

/** An intake scenario's row name in the table. */
export const intakeName = (scenario) => `intake, ${scenario.channels} channel${scenario.channels > 1 ? "s" : ""}`;

let serial = 0;
/** A new event of `type`, its marker in a field of the message. */
export function eventBody(type) {
  const n = ++serial;
  const marker = `bench-${n}-${Date.now()}`;
  const at = new Date().toISOString();
  const messages = {
    ApplicationRegistered: { ID: n, Name: marker, UserID: 1, CreatedAt: at },
    CredentialRegistered: { ID: n, ByUser: 3, AccessRequestID: 1, AppID: 3, CreatedAt: at, Note: marker },
    OrganisationRegistered: { ID: n, Name: marker, CreatedAt: at },
    UserRegistered: {
      ID: n,
      Email: `${marker}@example.com`,
      First: "Bench",
      Last: "Mark",
      OrgID: 1,
      Provider: "password",
      Status: "active",
      CreatedAt: at,
      ByUser: 1,
      CustomAttributes: [],
    },
  };
  messages.PasswordReset = messages.UserRegistered;
  messages.UserAccountDeactivated = messages.UserRegistered;
  return { marker, body: JSON.stringify({ Event: type, Message: messages[type], Timestamp: at }) };
}

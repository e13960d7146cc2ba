// The soak's five channels on the faulty receiver: three plain ones, one paused (and
// rate-limited) from the start and resumed mid-run, one ordered by Message.ID.
import { TIMEOUT_SECONDS } from "./options.mjs";

/** @param {(method: string, route: string, body?: object) => Promise<any>} admin */
export async function createChannels(admin, receiverBase) {
  const all = [];
  for (let i = 1; i <= 3; i++) {
    all.push(await admin("POST", "/webhooks", { Name: `soak ${i}`, URL: `${receiverBase}/c${i}`, Events: ["UserRegistered"], Timeout: TIMEOUT_SECONDS }));
  }
  const paused = await admin("POST", "/webhooks", {
    Name: "soak paused",
    URL: `${receiverBase}/paused`,
    Events: ["UserRegistered"],
    Timeout: TIMEOUT_SECONDS,
    Paused: true,
    RateLimit: 100,
  });
  all.push(paused);
  const ordered = await admin("POST", "/webhooks", {
    Name: "soak ordered",
    URL: `${receiverBase}/ordered`,
    Events: ["UserRegistered"],
    Timeout: TIMEOUT_SECONDS,
    Ordering: { Key: "Message.ID" },
  });
  all.push(ordered);
  return { all, paused, ordered };
}

/** The receiver's path a channel delivers to: how arrivals are told apart. */
export const pathOf = (channel) => new URL(channel.URL).pathname;

/** Resumes the paused channel: what it held must come through too. */
export async function resumePaused(admin, paused) {
  const held = (await admin("GET", `/stats?webhook_id=${paused.ID}`)).Counts.held;
  console.log(`  resuming the paused channel, which holds ${held} deliveries`);
  await admin("PATCH", `/webhooks/${paused.ID}`, { Paused: false });
}

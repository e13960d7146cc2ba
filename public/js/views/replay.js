import { api, humanError } from "../api.js";
import { whileBusy } from "../controls.js";
import { confirmDialog, h, toast } from "../dom.js";
import { formatTime, parseLocalText, timeHint, timeInput } from "../times.js";

/*
 * Replay (POST /webhooks/{id}/replay): deliveries for the stored events a channel would get
 * now and has none for. A long window answers a Cursor; these helpers follow it to the end,
 * so a count and a replay cover the whole window.
 */

const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

/** Follows a replay's cursors to the end of its window; returns the total. */
async function replayAll(id, body, key) {
  let total = 0;
  let cursor;
  do {
    const answer = await api("POST", `/webhooks/${id}/replay`, { ...body, ...(cursor ? { Cursor: cursor } : {}) });
    total += answer[key];
    cursor = answer.Cursor;
  } while (cursor);
  return total;
}

export const countReplay = (id, body) => replayAll(id, { ...body, DryRun: true }, "WouldCreate");
export const runReplay = (id, body) => replayAll(id, body, "Created");

/**
 * Counts what a replay would create, asks, then replays. Returns how many were created,
 * or null when there was nothing to replay or the admin said no.
 */
export async function askAndReplay(channel, body, what) {
  const n = await countReplay(channel.ID, body);
  if (n === 0) return { created: null, message: `No missed events ${what}.` };
  const held = channel.Paused ? " They are held until you resume the channel." : "";
  const yes = await confirmDialog(
    `${plural(n, "event", "events")} ${what} that “${channel.Name}” never got. Send them now, oldest first?${held}`,
    `Replay ${n}`,
  );
  if (!yes) return { created: null, message: "" };
  const created = await runReplay(channel.ID, body);
  return { created, message: `${plural(created, "delivery", "deliveries")} created${channel.Paused ? " (held: the channel is paused)" : ""}.` };
}

/** The channel page's "Replay missed events": from a time, counted first, then asked. */
export function replayCard(channel, onReplayed) {
  const since = timeInput("replay-since", Date.now() - 86_400_000, { required: true });
  const result = h("output", { "aria-live": "polite", class: "muted" });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const from = parseLocalText(since.value);
        if (!from) {
          result.textContent = "Write the time as YYYY-MM-DD HH:MM, e.g. 2026-11-29 09:30.";
          since.focus();
          return;
        }
        await whileBusy(
          event.submitter,
          async () => {
            const { created, message } = await askAndReplay(channel, { Since: from.toISOString() }, `received since ${formatTime(from)}`);
            result.textContent = message;
            if (created) onReplayed();
          },
          (err) => (result.textContent = humanError(err)),
        );
      },
    },
    h("h3", {}, "Replay missed events"),
    h(
      "p",
      { class: "hint" },
      "Send the stored events it would get now (its event types and filter) but never got: while it was disabled, before it existed, or before its filter changed.",
    ),
    h("label", { for: "replay-since" }, "Events received since"),
    since,
    timeHint("replay-since"),
    h("div", { class: "inline" }, h("button", { type: "submit", class: "secondary", disabled: !channel.Enabled }, "Replay missed events…"), result),
    channel.Enabled ? null : h("p", { class: "hint" }, "Enable the channel first."),
  );
  return form;
}

/**
 * After a disabled channel is enabled: what came while it was disabled (since its last
 * change before the enable, the best time the API knows for it), counted, and offered.
 */
export async function offerReplayAfterEnable(channel) {
  const since = channel.UpdatedAt;
  try {
    const { message } = await askAndReplay({ ...channel, Enabled: true }, { Since: since }, "received while it was disabled");
    if (message) toast(message, "success");
  } catch (err) {
    toast(humanError(err), "error");
  }
}

/**
 * An event's "Send to…": the enabled channels subscribed to its type that have no delivery
 * for it; the one chosen gets it (if its filter passes it).
 */
export function sendToControl(event, deliveries, channels, onSent) {
  const have = new Set(deliveries.map((d) => d.WebhookID));
  const candidates = channels.filter((c) => c.Enabled && c.Events.includes(event.Type) && !have.has(c.ID));
  if (!candidates.length) return h("p", { class: "hint" }, "Every enabled channel subscribed to this type has a delivery for it.");
  const selectId = `send-to-${event.ID}`;
  const select = h(
    "select",
    { id: selectId },
    candidates.map((c) => h("option", { value: c.ID }, c.Name)),
  );
  const result = h("output", { "aria-live": "polite", class: "muted" });
  return h(
    "form",
    {
      class: "inline send-to",
      onsubmit: async (e) => {
        e.preventDefault();
        const channel = candidates.find((c) => c.ID === select.value);
        await whileBusy(
          e.submitter,
          async () => {
            const created = await runReplay(channel.ID, { Since: event.ReceivedAt, EventID: event.ID });
            result.textContent = created
              ? `Sent to ${channel.Name}${channel.Paused ? " (held: the channel is paused)" : ""}.`
              : `${channel.Name}'s filter does not pass this event.`;
            if (created) onSent();
          },
          (err) => (result.textContent = humanError(err)),
        );
      },
    },
    h("label", { for: selectId }, "Send to"),
    select,
    h("button", { type: "submit", class: "secondary" }, "Send"),
    result,
  );
}

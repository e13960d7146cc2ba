// An ordered channel's lanes: which delivery heads each waiting lane, since when, and how many wait behind it.

import { api } from "../api.js";
import { badge, h, idWithCopy } from "../dom.js";
import { withQuery } from "../paging.js";
import { relativeTime, time } from "../times.js";

/** A lane list, or null where the API has none (a channel without ordering). */
export async function loadLanes(id) {
  try {
    return await api("GET", `/webhooks/${id}/lanes`);
  } catch {
    return null;
  }
}

/** An ordered channel's lanes that have deliveries waiting behind their head. */
export function lanesSection(channel, lanes) {
  if (channel.Ordering == null) return h("span", { hidden: true });
  const title = h("h2", { id: "lanes-title" }, "Lanes");
  const hint = h(
    "p",
    { class: "hint" },
    channel.Ordering.Key
      ? ["Deliveries with the same ", h("code", {}, channel.Ordering.Key), " go one at a time, in order: each waits for the one before it."]
      : "Deliveries go one at a time, in order: each waits for the one before it.",
  );
  if (lanes == null)
    return h("section", { class: "card lanes", "aria-labelledby": "lanes-title" }, title, hint, h("p", { class: "muted" }, "The lanes could not be read."));
  if (!lanes.length)
    return h(
      "section",
      { class: "card lanes", "aria-labelledby": "lanes-title" },
      title,
      hint,
      h("p", { class: "muted" }, "Nothing waits: no lane has a delivery behind its head."),
    );
  return h(
    "section",
    { class: "card lanes", "aria-labelledby": "lanes-title" },
    title,
    hint,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "cards" },
        h("caption", { class: "sr-only" }, "Lanes with deliveries waiting"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Lane", "Head delivery", "Head status", "Waiting behind it", "Head created"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          lanes.map((lane) =>
            h(
              "tr",
              { dataset: { lane: lane.Key ?? "" } },
              h(
                "td",
                { dataset: { label: "Lane" } },
                lane.Key == null
                  ? "whole channel"
                  : lane.Key === ""
                    ? h("span", {}, "events without ", h("code", {}, channel.Ordering?.Key ?? "the key"))
                    : h("span", {}, h("code", {}, channel.Ordering?.Key ?? "key"), " = ", h("code", {}, lane.Key)),
              ),
              h(
                "td",
                { dataset: { label: "Head delivery" } },
                h(
                  "span",
                  { class: "cell" },
                  h("a", { href: withQuery("#/deliveries", { webhook_id: channel.ID, event_id: lane.Head.EventID }) }, lane.Head.EventType),
                  h("span", { class: "block" }, idWithCopy("delivery ID", lane.Head.ID)),
                ),
              ),
              h(
                "td",
                { dataset: { label: "Head status" } },
                h(
                  "span",
                  { class: "cell" },
                  badge(lane.Head.Status),
                  ` ${lane.Head.AttemptCount} ${lane.Head.AttemptCount === 1 ? "attempt" : "attempts"}`,
                  lane.Head.NextAttemptAt ? h("span", { class: "muted small block" }, "next ", relativeTime(lane.Head.NextAttemptAt)) : null,
                  lane.Head.LastError ? h("span", { class: "muted small block" }, lane.Head.LastError) : null,
                ),
              ),
              h("td", { dataset: { label: "Waiting behind it" } }, String(lane.Waiting)),
              h("td", { dataset: { label: "Head created" } }, time(lane.Since)),
            ),
          ),
        ),
      ),
    ),
  );
}

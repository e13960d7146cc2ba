// The channel form's Routing: the format, the filter (warned of a path no recent event has), and trying both on recent events.

import { api } from "../api.js";
import { whileBusy } from "../controls.js";
import { h, mount, prettyJson } from "../dom.js";
import { time } from "../times.js";
import { field } from "./channel-form-field.js";

/**
 * The Routing fieldset, filled from `value` (a channel), tried on `eventTypes`; its warning
 * reads the subscribed types from `checkedEvents()`. A template sets `format`; the form reads
 * `filter` when it is sent.
 */
export function routingFields(value, eventTypes, checkedEvents) {
  const format = h(
    "select",
    {},
    [
      ["raw", "Raw: the portal's JSON, unchanged"],
      ["slack", "Slack message"],
      ["teams", "Microsoft Teams message"],
      ["discord", "Discord message"],
    ].map(([v, t]) => h("option", { value: v, selected: v === (value.Format ?? "raw") }, t)),
  );
  const filter = h(
    "textarea",
    { rows: 4, spellcheck: "false", placeholder: '{"Message.OrgID": 7}' },
    value.Filter ? JSON.stringify(value.Filter, null, 2) : "",
  );
  const previewType = h(
    "select",
    { id: "preview-type", "aria-label": "Event type to try" },
    eventTypes.map((t) => h("option", { value: t }, t)),
  );
  const previewOut = h("div", { class: "preview", "aria-live": "polite" });
  // A path that no recent event of the subscribed types has: most likely misspelt.
  const filterWarning = h("p", { class: "field-warning", id: "warning-Filter", "aria-live": "polite" });
  const checkPaths = async () => {
    let parsed;
    try {
      parsed = filter.value.trim() ? JSON.parse(filter.value) : null;
    } catch {
      filterWarning.textContent = "";
      return;
    }
    filterWarning.textContent = parsed ? await unmatchedPathsWarning(parsed, checkedEvents()) : "";
  };
  filter.addEventListener("change", () => checkPaths().catch(() => {}));
  const tryIt = h("button", { type: "button", class: "secondary" }, "Try it on the last 20 events");
  const showPreviewError = (err) => previewOut.replaceChildren(h("p", { class: "field-error" }, (err.errors ?? [err.message]).join(" ")));
  tryIt.addEventListener("click", () =>
    whileBusy(
      tryIt,
      async () => {
        let parsed;
        try {
          parsed = filter.value.trim() ? JSON.parse(filter.value) : null;
        } catch (err) {
          previewOut.replaceChildren(h("p", { class: "field-error" }, jsonProblem(filter.value, err)));
          return;
        }
        const r = await api("POST", "/routing/preview", { Event: previewType.value, Format: format.value, ...(parsed ? { Filter: parsed } : {}) });
        const matched = r.Matches.filter((m) => m.Matched).length;
        mount(
          previewOut,
          parsed
            ? h(
                "p",
                {},
                r.Matches.length
                  ? `${matched} of the last ${r.Matches.length} ${previewType.value} events would have been sent.`
                  : `No ${previewType.value} events yet to try it on.`,
              )
            : h("p", {}, "No filter: every event of the subscribed types is sent."),
          r.Matches.length
            ? h(
                "ul",
                { class: "small" },
                r.Matches.map((m) => h("li", {}, m.Matched ? "✓ sent " : "✗ not sent ", time(m.ReceivedAt), h("span", { class: "muted" }, ` ${m.ID}`))),
              )
            : null,
          h("p", { class: "muted small" }, "What this channel sends for the type's sample:"),
          h("pre", { tabindex: 0 }, prettyJson(JSON.parse(r.Body))),
        );
      },
      showPreviewError,
    ),
  );

  const element = h(
    "fieldset",
    {},
    h("legend", {}, "Routing"),
    field("Format", "Format", format, "Raw sends the portal's bytes. Slack, Teams and Discord send a message a person reads, to that tool's incoming webhook."),
    field(
      "Filter",
      "Filter (JSON)",
      filter,
      'Send only the events that match, e.g. {"Message.OrgID": 7} or {"Message.OrgID": {"$in": [7, 8]}}. Empty: every event of the subscribed types. A change applies to events received after it.',
    ),
    filterWarning,
    h("div", { class: "inline" }, previewType, tryIt),
    previewOut,
  );
  return { element, format, filter };
}

/** Where JSON.parse stopped, as an offset into the text (Chromium and Firefox say it). */
export function jsonPosition(text, err) {
  const at = /position (\d+)/.exec(err.message)?.[1];
  if (at != null) return Number(at);
  const lc = /line (\d+) column (\d+)/.exec(err.message);
  if (!lc) return null;
  const lines = text.split("\n");
  return lines.slice(0, Number(lc[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
}

/** "is not valid JSON at line 2, column 14 (near “OrgID 7”)". */
export function jsonProblem(text, err) {
  const at = jsonPosition(text, err);
  if (at == null) return "is not valid JSON";
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - before.lastIndexOf("\n");
  const near = text
    .slice(Math.max(0, at - 8), at + 8)
    .replace(/\s+/g, " ")
    .trim();
  return `is not valid JSON at line ${line}, column ${column}${near ? ` (near “${near}”)` : ""}`;
}

/** The dotted paths a filter reads: {"Message": {"OrgID": {"$gt": 1}}, "$or": [...]} → Message.OrgID, … */
export function filterPaths(filter, prefix = "") {
  if (filter == null || typeof filter !== "object" || Array.isArray(filter)) return prefix ? [prefix] : [];
  const paths = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === "$and" || key === "$or") {
      for (const part of Array.isArray(value) ? value : []) paths.push(...filterPaths(part, prefix));
    } else if (key.startsWith("$")) {
      if (prefix) paths.push(prefix);
    } else {
      const path = prefix ? `${prefix}.${key}` : key;
      const nested = value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).some((k) => !k.startsWith("$"));
      paths.push(...(nested ? filterPaths(value, path) : [path]));
    }
  }
  return [...new Set(paths)];
}

/** Whether a payload has a value at a dotted path (through arrays, as the filter reads them). */
function hasPath(value, path) {
  let here = [value];
  for (const name of path.split(".")) {
    here = here.flatMap((v) => (Array.isArray(v) ? v : [v])).flatMap((v) => (v && typeof v === "object" && name in v ? [v[name]] : []));
    if (!here.length) return false;
  }
  return true;
}

/** A warning naming the filter's paths that none of the recent events of these types has; "" if none. */
async function unmatchedPathsWarning(filter, types) {
  const paths = filterPaths(filter);
  if (!paths.length || !types.length) return "";
  const recent = (await api("GET", "/events?per_page=100")).filter((e) => types.includes(e.Type));
  if (!recent.length) return "";
  const missing = paths.filter((p) => !recent.some((e) => hasPath(e.Payload, p)));
  if (!missing.length) return "";
  return `No recent event of the subscribed types has ${missing.map((p) => `“${p}”`).join(", ")} (checked ${recent.length}): check the spelling, e.g. Message.OrgID.`;
}

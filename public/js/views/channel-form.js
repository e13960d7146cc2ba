import { api, splitError } from "../api.js";
import { splitEventTypes } from "../api-facts.js";
import { whileBusy } from "../controls.js";
import { confirmDialog, h, mount, prettyJson, time, toast } from "../dom.js";
import { connectionTest } from "./connection-test.js";
import { integrationFields } from "./integration-fields.js";

/** Create (no id) or edit a channel: the portal's Target URL, method, timeout, headers, events. */
export async function channelForm(id) {
  const [eventTypes, channel] = await Promise.all([api("GET", "/event-types"), id ? api("GET", `/webhooks/${id}`) : Promise.resolve(null)]);
  const value = channel ?? {
    Name: "",
    URL: "",
    Method: "POST",
    Timeout: 10,
    Events: [],
    Headers: [],
    Enabled: true,
    Paused: false,
    RateLimit: null,
    Ordering: null,
  };

  const errorFor = (field) => h("p", { class: "field-error", id: `error-${field}`, dataset: { errorFor: field } });
  const field = (name, label, input, hint) => {
    input.id = `field-${name}`;
    input.name = name;
    input.setAttribute("aria-describedby", `error-${name}`);
    return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null, errorFor(name));
  };

  const name = h("input", { type: "text", required: true, maxlength: 200, value: value.Name });
  const url = h("input", { type: "url", required: true, placeholder: "https://crm.example.com/hooks/tyk", value: value.URL });
  const method = h(
    "select",
    {},
    ["POST", "PUT", "PATCH"].map((m) => h("option", { value: m, selected: m === value.Method }, m)),
  );
  const timeout = h("input", { type: "number", min: 1, max: 60, step: 1, required: true, value: value.Timeout });
  const enabled = h("input", { type: "checkbox", id: "field-Enabled", checked: value.Enabled });
  const rateLimit = h("input", { type: "number", min: 1, max: 1000, step: 1, placeholder: "No limit", value: value.RateLimit ?? "" });
  const paused = h("input", { type: "checkbox", id: "field-Paused", checked: value.Paused ?? false });
  // Ordering: null (no order), {Key: null} (the whole channel in order), {Key: path} (in order per value).
  const orderMode = value.Ordering == null ? "none" : value.Ordering.Key ? "key" : "channel";
  const ordering = h(
    "select",
    {},
    [
      ["none", "No order: deliveries go in parallel (fastest)"],
      ["channel", "In order: the whole channel, one at a time"],
      ["key", "In order per value of a payload path"],
    ].map(([v, t]) => h("option", { value: v, selected: v === orderMode }, t)),
  );
  const orderKey = h("input", { type: "text", spellcheck: "false", placeholder: "Message.ID", value: value.Ordering?.Key ?? "" });
  const orderKeyField = field(
    "Ordering.Key",
    "Order key (a dotted path of the payload)",
    orderKey,
    "Deliveries with the same value at this path go one at a time, in order; others go in parallel.",
  );
  const syncOrdering = () => {
    orderKeyField.hidden = ordering.value !== "key";
  };
  ordering.addEventListener("change", syncOrdering);
  syncOrdering();
  const orderingValue = () => (ordering.value === "none" ? null : { Key: ordering.value === "key" ? orderKey.value.trim() : null });
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

  // Events: the portal's, with "select all", then the dispatcher's own alerts apart.
  const box = (type) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "Events", value: type, checked: value.Events.includes(type) }), type);
  const { portal, operational } = splitEventTypes(eventTypes);
  const boxes = portal.map(box);
  const alertBoxes = operational.map(box);
  const all = h("input", { type: "checkbox", id: "events-all" });
  const syncAll = () => {
    const checked = boxes.filter((b) => b.firstChild.checked).length;
    all.checked = checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
  };
  all.addEventListener("change", () => {
    for (const b of boxes) b.firstChild.checked = all.checked;
  });
  for (const b of boxes) b.firstChild.addEventListener("change", syncAll);
  syncAll();

  // Headers: rows of name and value.
  const rows = h("div", { class: "header-rows" });
  const addRow = (header = { Name: "", Value: "" }) => {
    const i = rows.children.length;
    const row = h(
      "div",
      { class: "header-row" },
      h(
        "div",
        {},
        h("label", { class: "sr-only", for: `header-name-${i}` }, `Header ${i + 1} name`),
        h("input", { id: `header-name-${i}`, class: "header-name", placeholder: "Name", value: header.Name }),
      ),
      h(
        "div",
        {},
        h("label", { class: "sr-only", for: `header-value-${i}` }, `Header ${i + 1} value`),
        h("input", { id: `header-value-${i}`, class: "header-value", placeholder: "Value", value: header.Value }),
      ),
      h("button", { type: "button", class: "secondary", "aria-label": `Remove header ${i + 1}`, onclick: () => row.remove() }, "Remove"),
      h("p", { class: "field-error", dataset: { errorFor: `Headers.${i}` } }),
    );
    rows.append(row);
    return row;
  };
  value.Headers.forEach(addRow);

  // Transform, Auth and templates: what a template fills in of the fields above, and what the preview reads.
  const checkedEvents = () => [...boxes, ...alertBoxes].filter((b) => b.firstChild.checked).map((b) => b.firstChild.value);
  const integration = integrationFields(value, {
    url: () => url.value,
    method: () => method.value,
    events: checkedEvents,
    headerNames: () => [...rows.children].map((row) => row.querySelector(".header-name").value),
    apply(t) {
      if (!name.value) name.value = t.Name;
      url.value = t.URL;
      method.value = t.Method;
      format.value = "raw";
      for (const b of [...boxes, ...alertBoxes]) b.firstChild.checked = t.Events.includes(b.firstChild.value);
      syncAll();
      const have = new Set([...rows.children].map((row) => row.querySelector(".header-name").value.toLowerCase()));
      for (const header of t.Headers) if (!have.has(header.toLowerCase())) addRow({ Name: header, Value: "" });
    },
  });

  const formError = h("div", { class: "alert", role: "alert", hidden: true });
  const save = h("button", { type: "submit" }, channel ? "Save changes" : "Create channel");

  const form = h(
    "form",
    { class: "card", novalidate: true, onsubmit: (e) => submit(e) },
    formError,
    field("Name", "Name", name),
    field("URL", "Target URL", url, "Where each event is sent: an http or https URL."),
    h("div", { class: "row" }, field("Method", "HTTP method", method), field("Timeout", "Timeout (seconds)", timeout, "1 to 60.")),
    h(
      "fieldset",
      {},
      h("legend", {}, "Flow control"),
      field(
        "RateLimit",
        "Rate limit (requests per second)",
        rateLimit,
        "1 to 1000; empty for no limit. Deliveries over the limit wait their turn; waiting is not an attempt.",
      ),
      h(
        "div",
        { class: "field" },
        h("label", { class: "check" }, paused, "Paused"),
        h("p", { class: "hint" }, "Hold new deliveries until you resume; nothing is sent, nothing is lost."),
        errorFor("Paused"),
      ),
      field("Ordering", "Delivery order", ordering, "In order: a delivery waits until the one before it in its lane succeeded or failed for good."),
      orderKeyField,
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Routing"),
      field(
        "Format",
        "Format",
        format,
        "Raw sends the portal's bytes. Slack, Teams and Discord send a message a person reads, to that tool's incoming webhook.",
      ),
      field(
        "Filter",
        "Filter (JSON)",
        filter,
        'Send only the events that match, e.g. {"Message.OrgID": 7} or {"Message.OrgID": {"$in": [7, 8]}}. Empty: every event of the subscribed types. A change applies to events received after it.',
      ),
      filterWarning,
      h("div", { class: "inline" }, previewType, tryIt),
      previewOut,
    ),
    integration.section,
    h(
      "fieldset",
      {},
      h("legend", {}, "Headers"),
      h("p", { class: "hint" }, "Sent with every delivery (not with Test Connection). Values are stored encrypted."),
      rows,
      h("button", { type: "button", class: "secondary", onclick: () => addRow().querySelector("input").focus() }, "Add header"),
      errorFor("Headers"),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Events"),
      h("label", { class: "check all" }, all, "Select all"),
      h("div", { class: "checks" }, boxes),
      h("p", { class: "hint" }, "The dispatcher's own events, to alert a team (a delivery failed for good, a channel was disabled):"),
      h("div", { class: "checks" }, alertBoxes),
      errorFor("Events"),
    ),
    h("div", { class: "field" }, h("label", { class: "check" }, enabled, "Enabled"), errorFor("Enabled")),
    h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: channel ? `#/channels/${channel.ID}` : "#/" }, "Cancel")),
  );

  async function submit(event) {
    event.preventDefault();
    for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    formError.hidden = true;
    // An empty number would reach the API as 0 and come back as "must be at least 1".
    if (timeout.value.trim() === "") {
      showErrors(["Timeout: enter a number of seconds from 1 to 60"]);
      return;
    }
    let filterValue = null;
    try {
      filterValue = filter.value.trim() ? JSON.parse(filter.value) : null;
    } catch (err) {
      showErrors([`Filter: ${jsonProblem(filter.value, err)}`]);
      // Focus the filter at the place the JSON goes wrong.
      const at = jsonPosition(filter.value, err);
      filter.focus();
      if (at != null) filter.setSelectionRange(at, Math.min(filter.value.length, at + 1));
      return;
    }
    const body = {
      Name: name.value,
      URL: url.value,
      Method: method.value,
      Timeout: Number(timeout.value),
      Events: checkedEvents(),
      Headers: [...rows.children].map((row) => ({ Name: row.querySelector(".header-name").value, Value: row.querySelector(".header-value").value })),
      Enabled: enabled.checked,
      RateLimit: rateLimit.value.trim() === "" ? null : Number(rateLimit.value),
      Paused: paused.checked,
      Ordering: orderingValue(),
      Format: format.value,
      Filter: filterValue,
      ...integration.values(),
    };
    await whileBusy(
      save,
      async () => {
        const saved = await api(channel ? "PUT" : "POST", channel ? `/webhooks/${channel.ID}` : "/webhooks", body);
        clean = snapshot();
        toast.next(channel ? `Channel “${saved.Name}” saved.` : `Channel “${saved.Name}” created.`);
        location.hash = `#/channels/${saved.ID}`;
      },
      (err) => showErrors(err.errors ?? [err.message]),
    );
  }

  function showErrors(errors) {
    const unplaced = [];
    let first;
    for (const error of errors) {
      const { field, message } = splitError(error);
      // "Headers.2.Name" belongs to header row 2; "Events.0" to the events list.
      const [root, index] = field.split(".");
      const slot =
        form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) ??
        (root === "Headers" && index !== undefined ? form.querySelector(`[data-error-for="Headers.${CSS.escape(index)}"]`) : null) ??
        form.querySelector(`[data-error-for="${CSS.escape(root)}"]`);
      if (!slot) {
        unplaced.push(error);
        continue;
      }
      // One line per problem, never run together; a problem inside a field names where
      // ("Filter.$or.1.Message.OrgID: $gt needs a number"), a header row its part.
      const line =
        !field.includes(".") || slot.dataset.errorFor === field
          ? message
          : root === "Headers"
            ? `${field.split(".").pop()} ${message}`
            : `${field}: ${message}`;
      slot.append(h("span", { class: "error-line" }, line));
      const input = slot.closest(".field, .header-row, fieldset")?.querySelector("input, select, textarea");
      input?.setAttribute("aria-invalid", "true");
      first ??= input;
    }
    if (unplaced.length) {
      formError.replaceChildren(...unplaced.map((e) => h("p", {}, e)));
      formError.hidden = false;
    }
    (first ?? formError).focus?.();
  }

  const page = h("section", {}, h("div", { class: "page-head" }, h("h1", {}, channel ? `Edit ${channel.Name}` : "New channel")), form);
  if (channel) {
    page.append(
      h(
        "div",
        { class: "card" },
        h("h2", {}, "Test Connection"),
        h("p", { class: "hint" }, "A HEAD request to the saved Target URL, without the custom headers, within the saved timeout."),
        connectionTest(channel.ID),
      ),
      h(
        "div",
        { class: "card danger-zone" },
        h("h2", {}, "Delete channel"),
        h("p", { class: "hint" }, "Its waiting deliveries are cancelled; its delivery history stays, under its events and in Deliveries."),
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: (event) =>
              whileBusy(event.currentTarget, async () => {
                const ask = `Delete the channel “${channel.Name}”? Deliveries waiting to be sent to it (pending, retrying or held) are cancelled. Its delivery history stays: under its events, and in Deliveries.`;
                if (!(await confirmDialog(ask, "Delete"))) return;
                await api("DELETE", `/webhooks/${channel.ID}`);
                clean = snapshot();
                toast.next(`Channel “${channel.Name}” deleted.`);
                location.hash = "#/channels";
              }),
          },
          "Delete channel",
        ),
      ),
    );
  }
  // Unsaved changes: leaving asks first (the router calls dirty()).
  const snapshot = () => JSON.stringify([...form.elements].map((el) => (el.type === "checkbox" ? el.checked : el.value)));
  let clean = snapshot();
  return { element: page, dirty: () => snapshot() !== clean };
}

/** Where JSON.parse stopped, as an offset into the text (Chromium and Firefox say it). */
function jsonPosition(text, err) {
  const at = /position (\d+)/.exec(err.message)?.[1];
  if (at != null) return Number(at);
  const lc = /line (\d+) column (\d+)/.exec(err.message);
  if (!lc) return null;
  const lines = text.split("\n");
  return lines.slice(0, Number(lc[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
}

/** "is not valid JSON at line 2, column 14 (near “OrgID 7”)". */
function jsonProblem(text, err) {
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

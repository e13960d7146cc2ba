import { api, splitError } from "../api.js";
import { whileBusy } from "../controls.js";
import { confirmDialog, h, toast } from "../dom.js";
import { eventFields } from "./channel-form-events.js";
import { errorFor, field } from "./channel-form-field.js";
import { flowControlFields } from "./channel-form-flow.js";
import { headerFields } from "./channel-form-headers.js";
import { jsonPosition, jsonProblem, routingFields } from "./channel-form-routing.js";
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

  const name = h("input", { type: "text", required: true, maxlength: 200, value: value.Name });
  const url = h("input", { type: "url", required: true, placeholder: "https://crm.example.com/hooks/tyk", value: value.URL });
  const method = h(
    "select",
    {},
    ["POST", "PUT", "PATCH"].map((m) => h("option", { value: m, selected: m === value.Method }, m)),
  );
  const timeout = h("input", { type: "number", min: 1, max: 60, step: 1, required: true, value: value.Timeout });
  const enabled = h("input", { type: "checkbox", id: "field-Enabled", checked: value.Enabled });
  const flow = flowControlFields(value);
  const events = eventFields(eventTypes, value.Events);
  const routing = routingFields(value, eventTypes, events.checked);
  const headers = headerFields(value.Headers);

  // Transform, Auth and templates: what a template fills in of the fields above, and what the preview reads.
  const integration = integrationFields(value, {
    url: () => url.value,
    method: () => method.value,
    events: events.checked,
    headerNames: headers.names,
    apply(t) {
      if (!name.value) name.value = t.Name;
      url.value = t.URL;
      method.value = t.Method;
      routing.format.value = "raw";
      events.check(t.Events);
      const have = new Set(headers.names().map((header) => header.toLowerCase()));
      for (const header of t.Headers) if (!have.has(header.toLowerCase())) headers.addRow({ Name: header, Value: "" });
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
    flow.element,
    routing.element,
    integration.section,
    headers.element,
    events.element,
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
    const { filter } = routing;
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
      Events: events.checked(),
      Headers: headers.values(),
      Enabled: enabled.checked,
      ...flow.values(),
      Format: routing.format.value,
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

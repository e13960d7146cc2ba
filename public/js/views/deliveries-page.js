import { api, apiPage } from "../api.js";
import { deliveryStatuses, retentionDays } from "../api-facts.js";
import { whileBusy } from "../controls.js";
import { confirmDialog, h, toast } from "../dom.js";
import { pageInQuery, withQuery } from "../paging.js";
import { parseLocalText, timeHint, timeInput } from "../times.js";
import { deliveryTable } from "./deliveries.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every channel's deliveries, filtered; failed ones can be sent again in bulk, after a count. */
export async function deliveriesPage(query) {
  const [types, channels, statuses] = await Promise.all([api("GET", "/event-types"), api("GET", "/webhooks?per_page=100"), deliveryStatuses()]);
  const filters = Object.fromEntries(["q", "status", "webhook_id", "event_type", "event_id", "since", "until"].map((k) => [k, query.get(k) ?? ""]));

  const errorFor = (name) => h("p", { class: "field-error", id: `filter-${name}-error`, dataset: { errorFor: name } });
  // Enter in a select applies the filters, as it does in a text field.
  const submitOnEnter = (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  };
  const select = (name, label, options) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}` }, label),
      h(
        "select",
        { id: `filter-${name}`, name, onkeydown: submitOnEnter },
        h("option", { value: "" }, "Any"),
        options.map(([value, text]) => h("option", { value, selected: value === filters[name] }, text)),
      ),
    );
  const input = (name, label, type) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}` }, label),
      h("input", { id: `filter-${name}`, name, type, value: filters[name], "aria-describedby": `filter-${name}-error` }),
      errorFor(name),
    );
  // A time: one text field (one tab stop), in the format every view shows, zone named.
  const when = (name, label) => {
    const el = timeInput(`filter-${name}`, filters[name], { name });
    el.setAttribute("aria-describedby", `filter-${name}-hint filter-${name}-error`);
    return h("div", { class: "field" }, h("label", { for: `filter-${name}` }, label), el, timeHint(`filter-${name}`), errorFor(name));
  };
  const form = h(
    "form",
    {
      class: "card filters",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
        for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
        const problems = [];
        const params = new URLSearchParams();
        for (const [key, raw] of new FormData(form)) {
          const value = String(raw).trim();
          if (!value) continue;
          if (key === "since" || key === "until") {
            const at = parseLocalText(value);
            if (!at) problems.push([key, "is not a time: write it as YYYY-MM-DD HH:MM, e.g. 2026-11-29 09:30"]);
            else params.set(key, at.toISOString());
          } else if (key === "event_id" && !UUID.test(value)) {
            problems.push([key, "is not an event ID: one looks like 0193a7c2-5b1e-7c3d-9f00-1a2b3c4d5e6f"]);
          } else params.set(key, value);
        }
        if (problems.length) {
          for (const [key, message] of problems) {
            form.querySelector(`[data-error-for="${key}"]`).textContent = `${key === "event_id" ? "Event ID" : "The time"} ${message}.`;
            form.querySelector(`[name="${key}"]`).setAttribute("aria-invalid", "true");
          }
          form.querySelector(`[name="${problems[0][0]}"]`).focus();
          return;
        }
        location.hash = `#/deliveries${params.size ? `?${params}` : ""}`;
      },
    },
    h(
      "div",
      { class: "filter-grid" },
      select(
        "status",
        "Status",
        statuses.map((s) => [s, s]),
      ),
      select(
        "webhook_id",
        "Channel",
        channels.map((c) => [c.ID, c.Name]),
      ),
      select(
        "event_type",
        "Event type",
        types.map((t) => [t, t]),
      ),
      input("q", "Payload contains", "search"),
      input("event_id", "Event ID", "text"),
      when("since", "Created since"),
      when("until", "Created before"),
    ),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", dataset: { keepFocus: "apply" } }, "Apply"),
      h("a", { class: "button secondary", href: "#/deliveries" }, "Clear"),
    ),
  );

  // The page is in the address bar with the filters: a cursor, and the ones before it.
  const title = h("h1", {}, "Deliveries");
  const table = deliveryTable({
    heading: title,
    load: (cursor, perPage) => apiPage(withQuery("/deliveries", { ...filters, per_page: String(perPage), cursor })),
    showChannel: true,
    at: pageInQuery(query),
    href: (params) => withQuery("#/deliveries", { ...filters, ...params }),
  });
  await table.refresh();
  const timer = setInterval(() => table.refresh().catch(() => {}), 5000);

  const retry = h(
    "button",
    { type: "button", class: "secondary", onclick: () => whileBusy(retry, () => retryFailed(filters, () => table.refresh())) },
    "Retry failed…",
  );

  const element = h("section", {}, h("div", { class: "page-head" }, title, retry), form, h("div", { class: "card" }, table.element));
  return { element, cleanup: () => clearInterval(timer) };
}

/** Counts the failed deliveries the filters match (DryRun), asks, then sends them again (its button shows a failure). */
async function retryFailed(filters, onDone) {
  const body = {
    // No time given: every failure still kept.
    Since: filters.since || new Date(Date.now() - (await retentionDays()) * 86_400_000).toISOString(),
    ...(filters.until ? { Until: filters.until } : {}),
    ...(filters.webhook_id ? { WebhookID: filters.webhook_id } : {}),
    ...(filters.event_type ? { EventType: filters.event_type } : {}),
  };
  const { WouldRequeue } = await api("POST", "/deliveries/recover", { ...body, DryRun: true });
  if (WouldRequeue === 0) {
    toast("No failed deliveries match these filters.");
    return;
  }
  const what = `${WouldRequeue} failed ${WouldRequeue === 1 ? "delivery" : "deliveries"}`;
  if (!(await confirmDialog(`Send again ${what}? Each starts a fresh retry schedule.`, `Retry ${WouldRequeue}`))) return;
  const { Requeued } = await api("POST", "/deliveries/recover", body);
  toast(`${Requeued} queued to send again.`, "success");
  onDone();
}

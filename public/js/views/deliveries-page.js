import { api, apiPage, humanError } from "../api.js";
import { confirmDialog, h, pageInQuery, toast, withQuery } from "../dom.js";
import { deliveryTable } from "./deliveries.js";

const STATUSES = ["pending", "retrying", "held", "succeeded", "failed", "cancelled"];
const RETENTION_DAYS = 30;

/** Every channel's deliveries, filtered; failed ones can be sent again in bulk, after a count. */
export async function deliveriesPage(query) {
  const [types, channels] = await Promise.all([api("GET", "/event-types"), api("GET", "/webhooks?per_page=100")]);
  const filters = Object.fromEntries(["q", "status", "webhook_id", "event_type", "event_id", "since", "until"].map((k) => [k, query.get(k) ?? ""]));

  const select = (name, label, options) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}` }, label),
      h(
        "select",
        { id: `filter-${name}`, name },
        h("option", { value: "" }, "Any"),
        options.map(([value, text]) => h("option", { value, selected: value === filters[name] }, text)),
      ),
    );
  const input = (name, label, type) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `filter-${name}` }, label),
      h("input", { id: `filter-${name}`, name, type, value: type === "datetime-local" ? toLocalInput(filters[name]) : filters[name] }),
    );
  const form = h(
    "form",
    {
      class: "card filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const params = new URLSearchParams();
        for (const [key, value] of data) {
          if (!value) continue;
          params.set(key, key === "since" || key === "until" ? new Date(String(value)).toISOString() : String(value));
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
        STATUSES.map((s) => [s, s]),
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
      input("since", "Created since", "datetime-local"),
      input("until", "Created before", "datetime-local"),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply"), h("a", { class: "button secondary", href: "#/deliveries" }, "Clear")),
  );

  // The page is in the address bar with the filters: a cursor, and the ones before it.
  const table = deliveryTable({
    load: (cursor, perPage) => apiPage(withQuery("/deliveries", { ...filters, per_page: String(perPage), cursor })),
    showChannel: true,
    at: pageInQuery(query),
    href: (params) => withQuery("#/deliveries", { ...filters, ...params }),
  });
  await table.refresh();
  const timer = setInterval(() => table.refresh().catch(() => {}), 5000);

  const retry = h("button", { type: "button", class: "secondary", onclick: () => retryFailed(filters, () => table.refresh()) }, "Retry failed…");

  const element = h("section", {}, h("div", { class: "page-head" }, h("h1", {}, "Deliveries"), retry), form, h("div", { class: "card" }, table.element));
  return { element, cleanup: () => clearInterval(timer) };
}

/** Counts the failed deliveries the filters match (DryRun), asks, then sends them again. */
async function retryFailed(filters, onDone) {
  const body = {
    Since: filters.since || new Date(Date.now() - RETENTION_DAYS * 86_400_000).toISOString(),
    ...(filters.until ? { Until: filters.until } : {}),
    ...(filters.webhook_id ? { WebhookID: filters.webhook_id } : {}),
    ...(filters.event_type ? { EventType: filters.event_type } : {}),
  };
  try {
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
  } catch (err) {
    toast(humanError(err), "error");
  }
}

/** An ISO time as a datetime-local input's value, in this browser's time zone. */
function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

// What the UI knows only because the API says so. Nothing here repeats a value the API
// serves: a status or a retention it adds or changes shows without an edit to the UI.

import { api } from "./api.js";

/** Read once per page load; a failed read is tried again next time. */
const once = (read) => {
  let pending;
  return () =>
    (pending ??= read().catch((err) => {
      pending = undefined;
      throw err;
    }));
};

const openApiDocument = once(() => api("GET", "/openapi.json"));

/** The delivery statuses, in the API's order: its OpenAPI document's `Delivery.Status`. */
export const deliveryStatuses = async () => (await openApiDocument()).components.schemas.Delivery.properties.Status.enum;

/** Days after which deliveries are purged (`RETENTION_DAYS`), as the stats answer them. */
export const retentionDays = once(
  async () => (await api("GET", `/stats?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`)).RetentionDays,
);

/**
 * `/event-types` split into the portal's and the dispatcher's own (operational events,
 * named `Dispatcher.…` by the contract; the list itself does not say which is which).
 */
export function splitEventTypes(types) {
  const operational = (type) => type.startsWith("Dispatcher.");
  return { portal: types.filter((t) => !operational(t)), operational: types.filter(operational) };
}

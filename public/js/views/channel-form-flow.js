// The channel form's Flow control: rate limit, pause, and delivery order (none, the whole channel, or per value of a payload path).

import { h } from "../dom.js";
import { errorFor, field } from "./channel-form-field.js";

/** The Flow control fieldset, filled from `value` (a channel); `values()` is its part of the request body. */
export function flowControlFields(value) {
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

  const element = h(
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
  );
  return {
    element,
    values: () => ({ RateLimit: rateLimit.value.trim() === "" ? null : Number(rateLimit.value), Paused: paused.checked, Ordering: orderingValue() }),
  };
}

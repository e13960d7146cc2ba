// The channel form's Events: the portal's types, with "Select all", then the dispatcher's own alerts apart.

import { splitEventTypes } from "../api-facts.js";
import { h } from "../dom.js";
import { errorFor } from "./channel-form-field.js";

/** The Events fieldset, `subscribed` checked; `checked()` reads the checked types, `check(types)` sets them. */
export function eventFields(eventTypes, subscribed) {
  // Events: the portal's, with "select all", then the dispatcher's own alerts apart.
  const box = (type) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "Events", value: type, checked: subscribed.includes(type) }), type);
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

  const element = h(
    "fieldset",
    {},
    h("legend", {}, "Events"),
    h("label", { class: "check all" }, all, "Select all"),
    h("div", { class: "checks" }, boxes),
    h("p", { class: "hint" }, "The dispatcher's own events, to alert a team (a delivery failed for good, a channel was disabled):"),
    h("div", { class: "checks" }, alertBoxes),
    errorFor("Events"),
  );
  return {
    element,
    checked: () => [...boxes, ...alertBoxes].filter((b) => b.firstChild.checked).map((b) => b.firstChild.value),
    check(types) {
      for (const b of [...boxes, ...alertBoxes]) b.firstChild.checked = types.includes(b.firstChild.value);
      syncAll();
    },
  };
}

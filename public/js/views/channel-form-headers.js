// The channel form's Headers: rows of name and value, sent with every delivery.

import { h } from "../dom.js";
import { errorFor } from "./channel-form-field.js";

/** The Headers fieldset with a row per header; `addRow()` adds one, `names()` and `values()` read the rows. */
export function headerFields(headers) {
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
  headers.forEach(addRow);

  const element = h(
    "fieldset",
    {},
    h("legend", {}, "Headers"),
    h("p", { class: "hint" }, "Sent with every delivery (not with Test Connection). Values are stored encrypted."),
    rows,
    h("button", { type: "button", class: "secondary", onclick: () => addRow().querySelector("input").focus() }, "Add header"),
    errorFor("Headers"),
  );
  return {
    element,
    addRow,
    names: () => [...rows.children].map((row) => row.querySelector(".header-name").value),
    values: () => [...rows.children].map((row) => ({ Name: row.querySelector(".header-name").value, Value: row.querySelector(".header-value").value })),
  };
}

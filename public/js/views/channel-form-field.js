// The channel form's fields: a label, the input, a hint, and the slot the API's errors about it go to.

import { h } from "../dom.js";

/** The slot the API's errors about `field` go to (the form finds it by `data-error-for`). */
export const errorFor = (field) => h("p", { class: "field-error", id: `error-${field}`, dataset: { errorFor: field } });

/** A labelled field: `input` takes the field's id and name, and is described by its errors. */
export const field = (name, label, input, hint) => {
  input.id = `field-${name}`;
  input.name = name;
  input.setAttribute("aria-describedby", `error-${name}`);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null, errorFor(name));
};

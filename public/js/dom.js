// A tiny element builder: every string becomes a text node, so nothing from the API is
// ever parsed as HTML.

import { humanError } from "./api.js";

/**
 * h("a", { href: "#/", class: "x", onclick: fn }, "text", child, [more])
 * Attributes starting with "on" become listeners; false/null/undefined ones are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value == null) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A small button that copies `text()` (a string, or a function giving one) and says so. */
export function copyButton(label, text) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary small copy",
      "aria-label": `Copy ${label}`,
      onclick: async () => {
        let value;
        try {
          value = typeof text === "function" ? await text() : text;
        } catch (err) {
          // The API would not give it (a secret read that failed): say why, not "copying".
          toast(humanError(err), "error");
          return;
        }
        try {
          await navigator.clipboard.writeText(value);
          toast(`${label.charAt(0).toUpperCase()}${label.slice(1)} copied.`, "success");
        } catch {
          toast(`Copying is not allowed here; select the ${label} and copy it by hand.`, "error");
        }
      },
    },
    "Copy",
  );
}

/**
 * Replaces `el`'s children with `nodes`; a control in focus inside it that has a
 * `data-keep-focus` key hands focus to its namesake in the new content, so a refresh never
 * throws a keyboard user back to the top. It does not scroll: the namesake stands where
 * the control stood, and a user who scrolled away from it is not pulled back.
 */
export function replaceKeepingFocus(el, ...nodes) {
  const keep = el.contains(document.activeElement) ? document.activeElement.closest("[data-keep-focus]")?.dataset.keepFocus : null;
  // Disclosures the user opened stay open in the new content (by their `data-keep-open` key).
  const opened = Array.from(el.querySelectorAll("details[open][data-keep-open]"), (d) => d.dataset.keepOpen);
  el.replaceChildren(...nodes);
  for (const key of opened) {
    const details = el.querySelector(`details[data-keep-open="${CSS.escape(key)}"]`);
    if (details) details.open = true;
  }
  if (keep) el.querySelector(`[data-keep-focus="${CSS.escape(keep)}"]`)?.focus({ preventScroll: true });
}

/** An ID shown in full, selectable on its own, with a copy button. */
export function idWithCopy(label, id) {
  const button = copyButton(label, id);
  // A part of a page made again by a refresh gives focus back to the same button.
  button.dataset.keepFocus = `copy-${label}-${id}`;
  return h("span", { class: "id-copy" }, h("code", { class: "id" }, id), " ", button);
}

export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

let toastTimer;
/** A short message in the live region, read out by screen readers. */
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.className = `show ${kind}`;
  el.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(toast.clear, 4000);
}
/**
 * A message for the page a navigation leads to ("Channel created."): the router says it
 * once that page is on screen, instead of clearing it with the page it was said on.
 */
toast.next = (message, kind = "success") => {
  toast.pending = { message, kind };
};
toast.pending = null;
/** A message belongs to the page it was said on. */
toast.clear = () => {
  clearTimeout(toastTimer);
  const el = document.getElementById("toast");
  el.className = "";
  el.textContent = "";
};

/** A modal confirmation on a native <dialog>: focus-trapped and closable with Escape. */
export function confirmDialog(message, action = "Confirm") {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": "Confirm" },
      h(
        "form",
        { method: "dialog" },
        h("p", {}, message),
        h(
          "div",
          { class: "actions" },
          h("button", { value: "cancel", class: "secondary" }, "Cancel"),
          h("button", { value: "confirm", class: "danger" }, action),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * JSON as indented text, for people. JSON.stringify recurses, so a payload nested
 * thousands deep would throw; past `maxDepth` a value is shown collapsed instead.
 */
export function prettyJson(value, maxDepth = 24) {
  const write = (v, depth, indent) => {
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
    const isArray = Array.isArray(v);
    const entries = isArray ? v.map((item) => [null, item]) : Object.entries(v);
    if (entries.length === 0) return isArray ? "[]" : "{}";
    if (depth >= maxDepth) return isArray ? "[…]" : "{…}";
    const inner = `${indent}  `;
    const lines = entries.map(([key, item]) => `${inner}${key === null ? "" : `${JSON.stringify(key)}: `}${write(item, depth + 1, inner)}`);
    return `${isArray ? "[" : "{"}\n${lines.join(",\n")}\n${indent}${isArray ? "]" : "}"}`;
  };
  return write(value, 0, "");
}

// The behaviours several views share: a button that is busy while its request runs, and a
// secret that stays masked until asked for.

import { humanError } from "./api.js";
import { copyButton, h, toast } from "./dom.js";

/** A failure as a toast, in words for people. */
export const toastError = (err) => toast(humanError(err), "error");

/**
 * Runs `work` with `button` busy until it ends: marked `aria-busy`, and a second click (or
 * submit) meanwhile does nothing, so nothing is sent twice. The button stays focusable, so
 * a view re-rendered by `work` keeps keyboard focus on it. A failure is shown by
 * `showError` (a toast unless told otherwise), never left to the console. Answers what
 * `work` answered, or undefined when it failed or the button was already busy.
 */
export async function whileBusy(button, work, showError = toastError) {
  if (button?.getAttribute("aria-busy") === "true") return undefined;
  button?.setAttribute("aria-busy", "true");
  button?.setAttribute("aria-disabled", "true");
  try {
    return await work();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    button?.removeAttribute("aria-busy");
    button?.removeAttribute("aria-disabled");
  }
}

/** A button whose click runs `work` while busy (see `whileBusy`). */
export function actionButton(label, attrs, work, showError) {
  const button = h("button", { type: "button", ...attrs, onclick: () => whileBusy(button, work, showError) }, label);
  return button;
}

/**
 * A secret shown masked until asked for. `load()` fetches it from the API (it is never
 * fetched before a Reveal or a Copy); `format` is how it reads on screen. Reveal shows it
 * and becomes Hide; Copy copies it without showing it. `show()` fetches and shows it
 * again (after a rotation).
 */
export function secretField({ id, label, mask, load, format = (secret) => secret }) {
  const value = h("code", { id, class: "secret" }, mask);
  let revealed = null;
  const show = async () => {
    revealed = await load();
    value.textContent = format(revealed);
    reveal.textContent = "Hide";
  };
  const hide = () => {
    revealed = null;
    value.textContent = mask;
    reveal.textContent = "Reveal";
  };
  const reveal = actionButton("Reveal", { class: "secondary small" }, () => (revealed ? hide() : show()));
  const copy = copyButton(label, async () => format(revealed ?? (await load())));
  return { value, reveal, copy, show };
}

import { api, session } from "../api.js";
import { h } from "../dom.js";

export function signIn(onSignedIn) {
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true, autofocus: true });
  const error = h("p", { class: "field-error", id: "token-error", role: "alert" });
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        const token = input.value.trim();
        try {
          await api("GET", "/event-types", undefined, token);
          session.signIn(token);
          onSignedIn();
        } catch (err) {
          error.textContent = err.status === 401 ? "That token was not accepted." : err.message;
          input.setAttribute("aria-invalid", "true");
          input.focus();
        }
      },
    },
    h("h1", {}, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "Paste the admin token (",
      h("code", {}, "ADMIN_TOKEN"),
      "). ",
      h("code", {}, "npm start"),
      " prints it; it is kept only in this tab.",
    ),
    h("label", { for: "token" }, "Admin token"),
    input,
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  input.setAttribute("aria-describedby", "token-error");
  return form;
}

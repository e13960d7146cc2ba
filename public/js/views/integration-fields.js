import { api } from "../api.js";
import { whileBusy } from "../controls.js";
import { h, prettyJson } from "../dom.js";

/**
 * The channel form's integration part: "Start from a template", the Transform (JSONata)
 * with a live preview of the request each subscribed type would produce, and Auth.
 * `form` gives the other fields the template fills and the preview reads.
 */
export function integrationFields(value, form) {
  const errorFor = (field) => h("p", { class: "field-error", id: `error-${field}`, dataset: { errorFor: field } });
  const labelled = (id, label, input, hint, errorKey = id) => {
    input.id = `field-${id}`;
    input.setAttribute("aria-describedby", `error-${errorKey}`);
    return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("p", { class: "hint" }, hint) : null, errorFor(errorKey));
  };

  const templatePick = h("select", { "aria-label": "Start from a template" }, h("option", { value: "" }, "Start from a template…"));
  const templateInfo = h("p", { class: "hint", "aria-live": "polite" });
  let templates = [];
  api("GET", "/templates").then((list) => {
    templates = list;
    templatePick.append(...list.map((t) => h("option", { value: t.ID }, t.Name)));
  });

  const transform = h("textarea", { rows: 10, spellcheck: "false", class: "code", placeholder: '{ "email": Message.Email }' }, value.Transform?.Body ?? "");
  const authType = h(
    "select",
    {},
    [
      ["", "None"],
      ["basic", "Basic (user name and password)"],
      ["oauth2", "OAuth 2.0 client credentials"],
    ].map(([v, t]) => h("option", { value: v, selected: v === (value.Auth?.Type ?? "") }, t)),
  );
  const a = value.Auth ?? {};
  const secretHint = (set) => (set ? "Stored encrypted; leave empty to keep it." : "Stored encrypted, never shown again.");
  const username = h("input", { type: "text", autocomplete: "off", value: a.Username ?? "" });
  const password = h("input", { type: "password", autocomplete: "new-password", placeholder: a.Password ? "[set]" : "" });
  const tokenUrl = h("input", { type: "url", placeholder: "https://auth.example.com/oauth/token", value: a.TokenURL ?? "" });
  const clientId = h("input", { type: "text", autocomplete: "off", value: a.ClientID ?? "" });
  const clientSecret = h("input", { type: "password", autocomplete: "new-password", placeholder: a.ClientSecret ? "[set]" : "" });
  const scope = h("input", { type: "text", value: a.Scope ?? "" });
  const audience = h("input", { type: "text", value: a.Audience ?? "" });
  const clientAuth = h(
    "select",
    {},
    [
      ["basic", "HTTP Basic (RFC 6749 §2.3.1)"],
      ["body", "Form fields client_id and client_secret"],
    ].map(([v, t]) => h("option", { value: v, selected: v === (a.ClientAuth ?? "basic") }, t)),
  );
  const basicFields = h(
    "div",
    {},
    labelled("Auth-Username", "User name", username, null, "Auth.Username"),
    labelled("Auth-Password", "Password", password, secretHint(Boolean(a.Password)), "Auth.Password"),
  );
  const oauthFields = h(
    "div",
    {},
    labelled("Auth-TokenURL", "Token URL", tokenUrl, null, "Auth.TokenURL"),
    h(
      "div",
      { class: "row" },
      labelled("Auth-ClientID", "Client ID", clientId, null, "Auth.ClientID"),
      labelled("Auth-ClientSecret", "Client secret", clientSecret, secretHint(Boolean(a.ClientSecret)), "Auth.ClientSecret"),
    ),
    h(
      "div",
      { class: "row" },
      labelled("Auth-Scope", "Scope", scope, null, "Auth.Scope"),
      labelled("Auth-Audience", "Audience", audience, null, "Auth.Audience"),
    ),
    labelled("Auth-ClientAuth", "Client authentication", clientAuth, null, "Auth.ClientAuth"),
  );
  const showAuth = () => {
    basicFields.hidden = authType.value !== "basic";
    oauthFields.hidden = authType.value !== "oauth2";
  };
  authType.addEventListener("change", showAuth);
  showAuth();

  const previewOut = h("div", { class: "preview integration-preview", "aria-live": "polite" });
  const previewButton = h("button", { type: "button", class: "secondary" }, "Preview the requests");
  async function preview() {
    const events = form.events();
    if (!events.length) {
      previewOut.replaceChildren(h("p", { class: "muted" }, "Choose the events first: the preview shows one request per subscribed type."));
      return;
    }
    try {
      const list = await api("POST", "/integrations/preview", {
        URL: form.url(),
        Method: form.method(),
        Events: events,
        Transform: transform.value.trim() ? { Body: transform.value } : null,
        Auth: authType.value ? { Type: authType.value } : null,
        HeaderNames: form.headerNames().filter(Boolean),
      });
      previewOut.replaceChildren(
        ...list.map((r) =>
          h(
            "div",
            { class: "preview-request" },
            h("h3", {}, r.Event, h("span", { class: "muted small" }, r.EventID ? ` newest event ${r.EventID}` : " sample payload")),
            r.Error ? h("p", { class: "field-error" }, r.Error) : null,
            r.URL ? h("p", { class: "request-line" }, h("code", {}, `${r.Method} ${r.URL}`)) : null,
            r.Headers.length ? h("pre", { tabindex: 0, class: "headers" }, r.Headers.map(([n, v]) => `${n}: ${v}`).join("\n")) : null,
            r.Body ? h("pre", { tabindex: 0 }, prettyJson(JSON.parse(r.Body))) : null,
          ),
        ),
      );
    } catch (err) {
      previewOut.replaceChildren(h("p", { class: "field-error" }, (err.errors ?? [err.message]).join(" ")));
    }
  }
  // The button shows it is busy; a template picked previews at once, without it.
  previewButton.addEventListener("click", () => whileBusy(previewButton, preview));

  templatePick.addEventListener("change", () => {
    const t = templates.find((x) => x.ID === templatePick.value);
    if (!t) return;
    form.apply(t);
    transform.value = t.Transform.Body;
    authType.value = t.Auth?.Type ?? "";
    showAuth();
    templateInfo.textContent = t.Description;
    preview();
  });

  const section = h(
    "fieldset",
    {},
    h("legend", {}, "Integration"),
    h("div", { class: "field" }, templatePick, templateInfo),
    labelled(
      "Transform",
      "Transform (JSONata)",
      transform,
      "Writes the body from the event {Event, Message, Timestamp}; $eventId, $webhookId and $portalUrl are bound. Empty: the portal's JSON, unchanged. An expression that yields nothing sends nothing.",
      "Transform",
    ),
    labelled("Auth-Type", "Target authentication", authType, null, "Auth"),
    basicFields,
    oauthFields,
    h("div", { class: "inline" }, previewButton),
    previewOut,
  );

  /** The fields' values as the API takes them. */
  const values = () => {
    const Transform = transform.value.trim() ? { Body: transform.value } : null;
    let Auth = null;
    if (authType.value === "basic") Auth = { Type: "basic", Username: username.value, ...(password.value ? { Password: password.value } : {}) };
    if (authType.value === "oauth2") {
      Auth = {
        Type: "oauth2",
        TokenURL: tokenUrl.value,
        ClientID: clientId.value,
        ...(clientSecret.value ? { ClientSecret: clientSecret.value } : {}),
        Scope: scope.value.trim() || null,
        Audience: audience.value.trim() || null,
        ClientAuth: clientAuth.value,
      };
    }
    return { Transform, Auth };
  };
  return { section, values };
}

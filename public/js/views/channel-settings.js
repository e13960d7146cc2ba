// The channel page's settings group: what the channel is set to, and its signing secret (reveal, copy, rotate).

import { api } from "../api.js";
import { splitEventTypes } from "../api-facts.js";
import { secretField, whileBusy } from "../controls.js";
import { badge, confirmDialog, h, toast } from "../dom.js";
import { time } from "../times.js";
import { describeOrdering } from "./channel-state.js";

/** What the channel is set to, one line a setting. */
export function settingsList(channel, types) {
  return h(
    "dl",
    {},
    h("dt", {}, "State"),
    h("dd", {}, channel.Enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", channel.DisabledReason ?? "")),
    h("dt", {}, "Flow"),
    h("dd", {}, channel.Paused ? badge("paused") : "sending", channel.RateLimit ? ` · at most ${channel.RateLimit} a second` : " · no rate limit"),
    h("dt", {}, "Order"),
    h("dd", {}, describeOrdering(channel.Ordering)),
    h("dt", {}, "Routing"),
    h(
      "dd",
      {},
      channel.Format === "raw" ? "raw JSON" : `${channel.Format} message`,
      channel.Filter ? h("span", {}, ", filter ", h("code", {}, JSON.stringify(channel.Filter))) : ", no filter",
    ),
    h("dt", {}, "Timeout"),
    h("dd", {}, `${channel.Timeout} s`),
    h("dt", {}, "Events"),
    h("dd", {}, describeEvents(channel.Events, types)),
    h("dt", {}, "Headers"),
    h("dd", {}, channel.Headers.length ? channel.Headers.map((x) => x.Name).join(", ") : "none"),
  );
}

/** The channel's types, "all N portal event types" when it has every one the API lists. */
const describeEvents = (events, types) => {
  const portalTypes = splitEventTypes(types).portal;
  const { portal, operational } = splitEventTypes(events);
  const all = portalTypes.every((t) => portal.includes(t));
  return [all ? `All ${portalTypes.length} portal event types` : portal.join(", "), ...operational].filter(Boolean).join(", ");
};

/** The signing secret, masked until Reveal or Copy, and Rotate. */
export function secretCard(id) {
  const previous = h("p", { class: "muted small" });
  const secret = secretField({
    id: "secret-value",
    label: "signing secret",
    mask: "whsec_••••••••••••••••",
    load: async () => {
      const s = await api("GET", `/webhooks/${id}/secret`);
      previous.textContent = s.PreviousSecret ? "The previous secret also signs until " : "";
      if (s.PreviousSecret) previous.append(time(s.PreviousSecretExpiresAt), ".");
      return s.Secret;
    },
  });
  const rotate = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: () =>
        whileBusy(rotate, async () => {
          if (!(await confirmDialog("Rotate the signing secret? The current one keeps signing beside the new one for 24 hours.", "Rotate"))) return;
          await api("POST", `/webhooks/${id}/secret/rotate`);
          toast("Secret rotated.", "success");
          await secret.show();
        }),
    },
    "Rotate",
  );

  return h(
    "div",
    { class: "card" },
    h("h3", {}, "Signing secret"),
    h("p", { class: "hint" }, "Receivers verify webhook-signature with it (Standard Webhooks)."),
    secret.value,
    h("div", { class: "inline" }, secret.reveal, secret.copy, rotate),
    previous,
  );
}

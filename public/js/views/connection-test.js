import { api, humanError } from "../api.js";
import { whileBusy } from "../controls.js";
import { h } from "../dom.js";

/** The Test Connection button and its result. */
export function connectionTest(channelId) {
  const result = h("output", { class: "test-result", "aria-live": "polite" });
  const say = (outcome, text) => {
    result.className = `test-result ${outcome}`;
    result.textContent = text;
  };
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () =>
        whileBusy(
          button,
          async () => {
            say("", "Testing…");
            const r = await api("POST", `/webhooks/${channelId}/test`);
            // One statement of what happened: the code, or the error when there is no code.
            say(r.Success ? "ok" : "fail", r.Success ? `Success: ${r.StatusCode} in ${r.DurationMs} ms` : `Failed: ${r.Error} (${r.DurationMs} ms)`);
          },
          (err) => say("fail", humanError(err)),
        ),
    },
    "Test Connection",
  );
  return h("div", { class: "inline" }, button, result);
}

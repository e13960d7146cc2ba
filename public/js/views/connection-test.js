import { api, humanError } from "../api.js";
import { h } from "../dom.js";

/** The Test Connection button and its result. */
export function connectionTest(channelId) {
  const result = h("output", { class: "test-result", "aria-live": "polite" });
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        button.disabled = true;
        result.className = "test-result";
        result.textContent = "Testing…";
        try {
          const r = await api("POST", `/webhooks/${channelId}/test`);
          result.className = `test-result ${r.Success ? "ok" : "fail"}`;
          // One statement of what happened: the code, or the error when there is no code.
          result.textContent = r.Success ? `Success: ${r.StatusCode} in ${r.DurationMs} ms` : `Failed: ${r.Error} (${r.DurationMs} ms)`;
        } catch (err) {
          result.className = "test-result fail";
          result.textContent = humanError(err);
        } finally {
          button.disabled = false;
        }
      },
    },
    "Test Connection",
  );
  return h("div", { class: "inline" }, button, result);
}

// A delivery's attempts, shown under its row when opened: its IDs, each attempt (what was
// sent when the channel rewrites it, what came back), and when it is tried next.

import { copyButton, h, idWithCopy } from "../dom.js";
import { time } from "../times.js";

/** `el`, keyed so that a refresh that makes its row again gives focus back to it. */
function keepingFocus(el, key) {
  el.dataset.keepFocus = key;
  return el;
}

/** The row under a delivery's row that shows `d`'s attempts (`d` as GET /deliveries/{id} answers); `waits`: why it has none yet, or null. */
export function attemptsRow(d, waits) {
  const content = d.Attempts.length
    ? h(
        "table",
        { class: "attempts" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["#", "Started", "Duration", "Code", "Error", "Response"].map((t) => h("th", { scope: "col" }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          d.Attempts.map((a) =>
            h(
              "tr",
              {},
              h("td", { dataset: { label: "Attempt" } }, String(a.Attempt)),
              h("td", { dataset: { label: "Started" } }, time(a.StartedAt)),
              h("td", { dataset: { label: "Duration" } }, `${a.DurationMs} ms`),
              h("td", { dataset: { label: "Code" } }, a.StatusCode == null ? "" : String(a.StatusCode)),
              h("td", { dataset: { label: "Error" } }, a.Error ?? ""),
              h(
                "td",
                { dataset: { label: "Response" } },
                // What was sent, when the channel rewrites it (a Transform, URL placeholders).
                a.Request
                  ? h(
                      "details",
                      { class: "sent", dataset: { keepOpen: `sent-${a.Attempt}` } },
                      h("summary", { dataset: { keepFocus: `sent-${a.Attempt}` } }, "Sent"),
                      h("p", { class: "small" }, a.Request.URL),
                      h("pre", { tabindex: 0, dataset: { keepFocus: `request-${a.Attempt}` } }, a.Request.Body),
                      keepingFocus(copyButton("request body", a.Request.Body), `copy-request-${a.Attempt}`),
                    )
                  : null,
                a.ResponseBody ? h("pre", { tabindex: 0, dataset: { keepFocus: `response-${a.Attempt}` } }, a.ResponseBody) : "",
              ),
            ),
          ),
        ),
      )
    : h("p", { class: "muted" }, waits ? `No attempts yet: ${waits}.` : "No attempts yet.");
  const next = d.NextAttemptAt && d.Status === "retrying" ? h("p", { class: "muted small" }, "Next attempt: ", time(d.NextAttemptAt)) : null;
  const error = d.LastError ? h("p", { class: "muted small" }, `Last error: ${d.LastError}`) : null;
  // The IDs a script needs (redeliver takes the delivery's), each selectable and copyable.
  const ids = h(
    "p",
    { class: "ids small" },
    h("span", {}, "Delivery ", idWithCopy("delivery ID", d.ID)),
    h("span", {}, "Event ", idWithCopy("event ID", d.EventID)),
  );
  return h("tr", { class: "attempts-row", dataset: { attemptsFor: d.ID } }, h("td", { colspan: 8 }, ids, content, next, error));
}

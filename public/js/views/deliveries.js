import { api } from "../api.js";
import { badge, h, time, toast } from "../dom.js";

/**
 * A table of deliveries; each row expands to its attempts, and can be sent again.
 * `load()` fetches the rows; `refresh()` redraws, keeping open rows open.
 */
export function deliveryTable({ load, channelNames = new Map(), showChannel = false }) {
  const open = new Set();
  const body = h("tbody");
  const table = h("div", { class: "table-wrap" },
    h("table", { class: "deliveries" },
      h("thead", {}, h("tr", {}, [showChannel ? "Channel" : "Event type", "Status", "Attempts", "Last code", "Created", ""].map((t) => h("th", { scope: "col" }, t)))),
      body,
    ),
  );
  const empty = h("p", { class: "muted empty-row", hidden: true }, "No deliveries yet.");

  async function refresh() {
    const rows = await load();
    empty.hidden = rows.length > 0;
    const details = await Promise.all(rows.map((d) => (open.has(d.ID) ? api("GET", `/deliveries/${d.ID}`) : null)));
    body.replaceChildren(...rows.flatMap((d, i) => [row(d), details[i] ? attemptsRow(details[i]) : null].filter(Boolean)));
  }

  function row(d) {
    const expanded = open.has(d.ID);
    return h("tr", { dataset: { delivery: d.ID, status: d.Status } },
      h("td", {}, showChannel ? channelNames.get(d.WebhookID) ?? d.WebhookID : d.EventType),
      h("td", {}, badge(d.Status)),
      h("td", {}, String(d.AttemptCount)),
      h("td", {}, d.LastStatusCode == null ? (d.LastError ? h("span", { class: "muted", title: d.LastError }, "error") : "") : String(d.LastStatusCode)),
      h("td", {}, time(d.CreatedAt)),
      h("td", { class: "row-actions" },
        h("button", {
          type: "button",
          class: "secondary small",
          "aria-expanded": String(expanded),
          onclick: () => {
            if (expanded) open.delete(d.ID);
            else open.add(d.ID);
            refresh();
          },
        }, expanded ? "Hide attempts" : "Attempts"),
        h("button", {
          type: "button",
          class: "secondary small",
          onclick: async () => {
            try {
              await api("POST", `/deliveries/${d.ID}/redeliver`);
              toast("Queued to send again.", "success");
              refresh();
            } catch (err) {
              toast(err.message, "error");
            }
          },
        }, "Redeliver"),
      ),
    );
  }

  function attemptsRow(d) {
    const content = d.Attempts.length
      ? h("table", { class: "attempts" },
          h("thead", {}, h("tr", {}, ["#", "Started", "Duration", "Code", "Error", "Response"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {},
            d.Attempts.map((a) =>
              h("tr", {},
                h("td", {}, String(a.Attempt)),
                h("td", {}, time(a.StartedAt)),
                h("td", {}, `${a.DurationMs} ms`),
                h("td", {}, a.StatusCode == null ? "" : String(a.StatusCode)),
                h("td", {}, a.Error ?? ""),
                h("td", {}, a.ResponseBody ? h("pre", {}, a.ResponseBody) : ""),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No attempts yet.");
    const next = d.NextAttemptAt && d.Status === "retrying" ? h("p", { class: "muted small" }, "Next attempt: ", time(d.NextAttemptAt)) : null;
    const error = d.LastError ? h("p", { class: "muted small" }, `Last error: ${d.LastError}`) : null;
    return h("tr", { class: "attempts-row", dataset: { attemptsFor: d.ID } }, h("td", { colspan: 6 }, content, next, error));
  }

  return { element: h("div", {}, table, empty), refresh };
}

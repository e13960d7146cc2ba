// Times: how every view writes a time, and the text fields that take one.

import { h } from "./dom.js";

/*
 * Times: one format everywhere, in this browser's time zone, named ("2026-11-29 22:32 UTC").
 * Time inputs take the same format (a text field: one tab stop, where a datetime-local
 * takes six, and no locale's own order).
 */
const pad = (n) => String(n).padStart(2, "0");

/** This browser's time zone, short ("UTC", "GMT+1", "CET"). */
export const zoneName = () =>
  new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(new Date()).find((p) => p.type === "timeZoneName")?.value ?? "local time";

/** "2026-11-29 22:32" in this browser's time zone: what a time input shows and takes. */
export function localText(value) {
  if (value == null || value === "") return "";
  const d = new Date(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2026-11-29 22:32 UTC": a time as every view shows it. */
export const formatTime = (value) => `${localText(value)} ${zoneName()}`;

export function time(iso) {
  if (!iso) return "";
  return h("time", { datetime: iso, title: new Date(iso).toISOString() }, formatTime(iso));
}

/** A time input's text ("2026-11-29 22:32", or a date alone) as a Date; null if it is not one. */
export function parseLocalText(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, hh = "0", mm = "0"] = m.map((x) => x);
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm));
  // 2026-02-31 rolls over to March: not a date.
  return date.getMonth() === Number(mo) - 1 && date.getDate() === Number(d) && Number(hh) < 24 && Number(mm) < 60 ? date : null;
}

/** A text field for a time, with its format and the time zone in its hint. */
export function timeInput(id, value, attrs = {}) {
  return h("input", {
    id,
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "YYYY-MM-DD HH:MM",
    value: localText(value),
    "aria-describedby": `${id}-hint`,
    ...attrs,
  });
}
export const timeHint = (id) => h("p", { class: "hint", id: `${id}-hint` }, `YYYY-MM-DD HH:MM, ${zoneName()}`);

/** "in 4 min", "12 s ago": a time relative to now, with the exact time on hover. */
export function relativeTime(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  const abs = Math.abs(ms);
  const [value, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), "s"]
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), "min"]
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), "h"]
          : [Math.round(abs / 86_400_000), "d"];
  return h("time", { datetime: iso, title: formatTime(iso) }, ms >= 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`);
}

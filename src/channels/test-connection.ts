import type { AttemptResult } from "../delivery/request";
import { call } from "../http/outbound";
import { expandUrl, hasPlaceholders } from "../integrations/url-fields";
import type { EventType } from "../portal/catalog";
import { sampleEvent } from "../portal/samples";
import { targetUrlProblem } from "../security/target-url";

/** What an admin's check of a target answers: success means a 2xx, as for a delivery. */
export function checkResult(result: AttemptResult) {
  if (!result.ok) return { Success: false, StatusCode: null, DurationMs: result.durationMs, Error: result.message };
  const success = result.status >= 200 && result.status < 300;
  return { Success: success, StatusCode: result.status, DurationMs: result.durationMs, Error: success ? null : `target answered ${result.status}` };
}

/**
 * The portal's Test Connection: a HEAD to the target, without the channel's custom headers,
 * within its timeout. A URL with placeholders (`{Message.Email}`) is filled from the sample
 * payload of the channel's first event type, as a delivery of it would be.
 */
export async function testConnection(template: string, timeoutSeconds: number, allowPrivate: boolean, events: readonly EventType[] = []) {
  let url = template;
  if (hasPlaceholders(template)) {
    const type = events[0];
    const expanded = type ? expandUrl(template, JSON.parse(sampleEvent(type))) : undefined;
    if (!expanded?.ok)
      return { Success: false, StatusCode: null, DurationMs: 0, Error: expanded ? expanded.message : "URL: has placeholders and no event type to fill them" };
    url = expanded.url;
  }
  const problem = targetUrlProblem(url, allowPrivate);
  if (problem) return { Success: false, StatusCode: null, DurationMs: 0, Error: `URL ${problem}` };
  return checkResult(await call(url, { method: "HEAD" }, timeoutSeconds * 1000));
}

import type { AttemptResult } from "../delivery/request";
import { call } from "../http/outbound";
import { targetUrlProblem } from "../security/target-url";

/** What an admin's check of a target answers: success means a 2xx, as for a delivery. */
export function checkResult(result: AttemptResult) {
  if (!result.ok) return { Success: false, StatusCode: null, DurationMs: result.durationMs, Error: result.message };
  const success = result.status >= 200 && result.status < 300;
  return { Success: success, StatusCode: result.status, DurationMs: result.durationMs, Error: success ? null : `target answered ${result.status}` };
}

/** The portal's Test Connection: a HEAD to the target, without the channel's custom headers, within its timeout. */
export async function testConnection(url: string, timeoutSeconds: number, allowPrivate: boolean) {
  const problem = targetUrlProblem(url, allowPrivate);
  if (problem) return { Success: false, StatusCode: null, DurationMs: 0, Error: `URL ${problem}` };
  return checkResult(await call(url, { method: "HEAD" }, timeoutSeconds * 1000));
}

import type { Config } from "../core/env";
import { buildRequest, callTarget } from "../delivery/request";
import type { EventType } from "../portal/catalog";
import { sampleEvent } from "../portal/samples";
import type { SecretBox } from "../security/secret-box";
import { targetUrlProblem } from "../security/target-url";
import type { ChannelRecord } from "./queries";
import { checkResult } from "./test-connection";

/**
 * "Send a test event": the type's sample payload, with a fresh Timestamp, sent through the
 * channel exactly as a delivery goes (its method, custom headers and signature), and what
 * the target answered. Nothing is recorded.
 */
export async function sendTestEvent(channel: ChannelRecord, type: EventType, box: SecretBox, cfg: Pick<Config, "allowPrivateTargets" | "portalUrl">) {
  const { row } = channel;
  const problem = targetUrlProblem(row.url, cfg.allowPrivateTargets);
  if (problem) return { Success: false, StatusCode: null, DurationMs: 0, Error: `URL ${problem}`, ResponseBody: null };
  const built = await buildRequest(
    { ...row, headers: channel.headers },
    { webhookId: `test_${crypto.randomUUID()}`, body: sampleEvent(type) },
    box,
    cfg.portalUrl,
    Date.now(),
    cfg,
  );
  if (!built.ok) return { ...checkResult(built), ResponseBody: null };
  const { result, built: sent } = await callTarget(built, row.timeoutSeconds * 1000);
  return { ...checkResult(result), ResponseBody: result.ok ? sent.mask(result.body) : null };
}

import { iso } from "../db/client";
import { authView } from "../integrations/auth";
import type { SecretBox } from "../security/secret-box";
import type { ChannelRecord, HeaderRow, LastDelivery } from "./queries";
import type { ChannelView } from "./schemas";

/** Channels and headers as the admin API shows them, secrets decrypted. */

export async function channelView(record: ChannelRecord, box: SecretBox): Promise<ChannelView> {
  const { row } = record;
  return {
    ID: row.id,
    Name: row.name,
    URL: row.url,
    Method: row.method,
    Timeout: row.timeoutSeconds,
    Events: record.events,
    Headers: await Promise.all(record.headers.map(async (h) => ({ ID: h.id, Name: h.name, Value: await box.decrypt(h.value) }))),
    Enabled: row.enabled,
    DisabledReason: row.disabledReason,
    Paused: row.paused,
    RateLimit: row.rateLimit,
    Ordering: row.ordering === null ? null : JSON.parse(row.ordering),
    Filter: row.filter === null ? null : JSON.parse(row.filter),
    Format: row.format,
    Transform: row.transform === null ? null : { Body: row.transform },
    Auth: authView(row.auth),
    CreatedAt: iso(row.createdAt)!,
    UpdatedAt: iso(row.updatedAt)!,
  };
}

/** A channel in the list: beside its fields, its health (failing since, newest delivery). */
export async function channelListView(record: ChannelRecord & { lastDelivery: LastDelivery | null }, box: SecretBox) {
  const last = record.lastDelivery;
  return {
    ...(await channelView(record, box)),
    FailingSince: iso(record.row.failingSince),
    LastDelivery: last && { ID: last.id, Status: last.status, LastError: last.lastError, CreatedAt: iso(last.createdAt)!, UpdatedAt: iso(last.updatedAt)! },
  };
}

export async function headerView(row: HeaderRow, box: SecretBox) {
  return { ID: row.id, Name: row.name, Value: await box.decrypt(row.value), WebhookID: row.channelId };
}

import { sql } from "drizzle-orm";
import { index, integer, primaryKey, type SQLiteColumn, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { type AttemptRecord, deliveryStatuses, isLive } from "./delivery-state";

// Times are unix milliseconds: cheap to compare in SQL, turned into ISO strings at the edge.
const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/**
 * The condition of the channels_failing index: enabled channels in a failure streak. The
 * sweeper's look for channels failing for 5 days repeats it as written (SQLite matches a
 * partial index's condition by its terms), so it reads the failing ones, not every channel.
 */
export const isEnabledAndFailing = (enabled: SQLiteColumn, failingSince: SQLiteColumn) => sql`${enabled} = 1 and ${failingSince} is not null`;

export const channels = sqliteTable(
  "channels",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    method: text("method", { enum: ["POST", "PUT", "PATCH"] })
      .notNull()
      .default("POST"),
    timeoutSeconds: integer("timeout_seconds").notNull().default(10),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    /** Encrypted `whsec_…` signing secret. */
    secret: text("secret").notNull(),
    /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    /** Start of the current run of failed attempts; null after any success. */
    failingSince: integer("failing_since"),
    /** Flow control: while paused, new and due deliveries are held, not sent. */
    paused: integer("paused", { mode: "boolean" }).notNull().default(false),
    /** Flow control: requests per second to this channel at most; null for no limit. */
    rateLimit: integer("rate_limit"),
    /** Routing: the payload filter as JSON (src/routing/filter.ts); null lets every event through. */
    filter: text("filter"),
    /** Bumped whenever the filter changes, so an isolate's cache of filters can tell it is stale. */
    filterVersion: integer("filter_version").notNull().default(0),
    /** Routing: how a delivery's body is written: the portal's bytes, or a chat message. */
    format: text("format", { enum: ["raw", "slack", "teams", "discord"] })
      .notNull()
      .default("raw"),
    /** Integrations: the JSONata expression that writes the body (src/integrations/transform.ts); null sends the portal's bytes. */
    transform: text("transform"),
    /**
     * Integrations: how the channel authenticates to its target, as JSON (src/integrations/auth.ts):
     * `{"Type": "basic", "Username", "Password"}` or `{"Type": "oauth2", "TokenURL", "ClientID",
     * "ClientSecret", "Scope"?, "Audience"?, "ClientAuth"?}`, the password and client secret encrypted.
     */
    auth: text("auth"),
    /**
     * Flow control: `{"Key": null}` (the whole channel is one lane) or `{"Key": "<dotted
     * path>"}` (a lane per value of that path) as JSON; null promises no order
     * (src/flow/lanes.ts).
     */
    ordering: text("ordering"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("channels_failing").on(t.failingSince).where(isEnabledAndFailing(t.enabled, t.failingSince))],
);

/** Which event types a channel receives; the primary key is the intake's lookup index. */
export const channelEvents = sqliteTable(
  "channel_events",
  {
    eventType: text("event_type").notNull(),
    channelId: text("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.eventType, t.channelId] }), index("channel_events_channel").on(t.channelId)],
);

export const channelHeaders = sqliteTable(
  "channel_headers",
  {
    id: text("id").primaryKey(),
    channelId: text("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Encrypted. */
    value: text("value").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [
    index("channel_headers_channel").on(t.channelId, t.createdAt),
    // No name twice on a channel, in any case, even under concurrent requests.
    uniqueIndex("channel_headers_name").on(t.channelId, sql`lower(${t.name})`),
  ],
);

/**
 * Keyed by type, then by a UUIDv7 id (src/db/ids.ts), so both "newest first" and "newest
 * of a type first" are key ranges. `WITHOUT ROWID` (in the migration; drizzle cannot say
 * it): the key is the table, and an event costs two rows written, its own and its body
 * hash for the dedupe.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").notNull(),
    type: text("type").notNull(),
    /** The request body exactly as the portal sent it. */
    body: text("body").notNull(),
    receivedAt: integer("received_at").notNull(),
    /** SHA-256 of the body, hex: a byte-identical body within the dedupe window is a duplicate. */
    bodyHash: text("body_hash"),
    /** The portal's `Idempotency-Key` header, when it sent one. */
    idempotencyKey: text("idempotency_key"),
  },
  (t) => [
    primaryKey({ columns: [t.type, t.id] }),
    index("events_body_hash").on(t.bodyHash),
    index("events_idempotency_key").on(t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
  ],
);

/**
 * Keyed by channel, then by a UUIDv7 id that starts with its event's time, so a channel's
 * deliveries newest first, or created in a window, are a key range; the queue message
 * carries both halves of the key. `WITHOUT ROWID` (in the migration): a delivery costs
 * two rows written when created, its own and its entry in the live index.
 * No foreign key to channels: a deleted channel's delivery history stays readable.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").notNull(),
    eventId: text("event_id").notNull(),
    channelId: text("channel_id").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: deliveryStatuses }).notNull().default("pending"),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** `attemptCount` when the current run began (admin redeliver/recover start a new run). */
    retryBase: integer("retry_base").notNull().default(0),
    /**
     * Which queue message may act for this delivery: the sweeper and an admin's redeliver
     * bump it when they send a new message, so an older copy still in the queue is dropped
     * instead of sending twice. Retries keep it.
     */
    generation: integer("generation").notNull().default(0),
    /**
     * How many times in a row the sweeper sent this delivery again with no attempt recorded
     * between: its wait before the next time doubles with each (a delivery stuck behind a
     * long backlog). An attempt, or an admin's new run, sets it back to 0.
     */
    reclaims: integer("reclaims").notNull().default(0),
    /**
     * When the queue should next hand this delivery to the consumer. Null while it has no
     * message: held (paused), or waiting behind its lane's head (src/flow/lanes.ts).
     */
    nextAttemptAt: integer("next_attempt_at"),
    /**
     * The delivery's lane on an ordered channel (the value of the channel's `Ordering.Key`
     * in its payload, as text; "" for the whole channel or a payload without it); null on a
     * channel without `Ordering`. Set when the delivery is created.
     */
    lane: text("lane"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    /**
     * The attempt log, a JSON array of AttemptRecord, oldest first. In the row rather than a
     * table of its own: an attempt then costs no row and no index entry of its own.
     */
    attempts: text("attempts", { mode: "json" }).$type<AttemptRecord[]>().notNull().default(sql`'[]'`),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.channelId, t.id] }),
    // Only live deliveries, for the sweeper and the stats: a delivery leaves it when it
    // ends, and costs no index write then. Queries that use it repeat this condition as
    // written here (SQLite matches a partial index's condition by its terms).
    index("deliveries_live").on(t.nextAttemptAt).where(isLive(t.status)),
    // A lane's head is its live delivery with the lowest id: one seek. Only ordered
    // channels' live deliveries have an entry; the others pay nothing for it.
    index("deliveries_lane")
      .on(t.channelId, t.lane, t.id)
      .where(sql`${t.lane} is not null and ${isLive(t.status)}`),
  ],
);

/**
 * When the portal last knocked on the intake in ways that leave no event: its Test
 * Connection (a bare HEAD) and a POST refused for its token. Written at most every few
 * seconds per kind, so an outsider's HEADs cannot turn into a stream of writes.
 */
export const intakeSeen = sqliteTable("intake_seen", {
  kind: text("kind", { enum: ["head", "unauthorized"] }).primaryKey(),
  at: integer("at").notNull(),
});

/**
 * Events the intake accepted while D1 could not take them (parked on the storing queue),
 * noted when they are stored: the stats count them per window. Keyed by the event's id (a
 * UUIDv7, in time order), so a window is a range of the key and noting an event twice is a
 * no-op; purged with the events. `WITHOUT ROWID` (added in its migration).
 */
export const eventsStoredLate = sqliteTable("events_stored_late", {
  eventId: text("event_id").primaryKey(),
  type: text("type").notNull(),
  receivedAt: integer("received_at").notNull(),
  storedAt: integer("stored_at").notNull(),
});

/**
 * Delivery counts per channel and hour of creation, for `GET /portal-api/stats`: how many
 * deliveries created in that hour have ended in each status, a histogram of the latency
 * of their answered attempts, and the latest failure. Written in the same D1 batch as the
 * changes they count, so stats over a week read a few thousand rows, not a million.
 * Live statuses (pending, retrying, held) are not counted here: they are read live.
 */
export const deliveryCounts = sqliteTable(
  "delivery_counts",
  {
    channelId: text("channel_id").notNull(),
    /** The hour's start, unix ms. */
    hour: integer("hour").notNull(),
    succeeded: integer("succeeded").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    cancelled: integer("cancelled").notNull().default(0),
    /** JSON array: answered attempts per latency bucket (see stats/latency.ts). */
    latency: text("latency").notNull().default("[]"),
    lastError: text("last_error"),
    lastFailureAt: integer("last_failure_at"),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.hour] })],
);

/** The names of deleted channels, so their deliveries still say whose they were. */
export const deletedChannels = sqliteTable("deleted_channels", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  deletedAt: integer("deleted_at").notNull(),
});

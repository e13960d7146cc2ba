-- Fewer rows per delivery (docs/capacity.md, "Rows per delivery"). Events and deliveries
-- become WITHOUT ROWID tables keyed by UUIDv7 ids (src/db/ids.ts), whose order is time
-- order: events by (type, id), deliveries by (channel_id, id). The time, channel and event
-- indexes go: what they served is now a range of a primary key.
--
-- Existing rows keep everything but their ids, which are rewritten as UUIDv7s of the
-- same time (an event's received_at; a delivery takes its event's, as new ones do) with
-- the old id's last characters as the random part. Queue messages still in flight name
-- the old ids: the consumer drops them as unknown, and the sweeper sends the deliveries
-- they were for again once their grace has passed. Nothing waiting is lost.
CREATE TABLE `__new_events` (
	`id` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`received_at` integer NOT NULL,
	`body_hash` text,
	`idempotency_key` text,
	PRIMARY KEY(`type`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
-- The new id: a UUIDv7 of the time, its random part the last 19 hex digits of the old id's
-- bytes (`r`), the variant nibble mapped into 8-b.
INSERT INTO `__new_events` (`id`, `type`, `body`, `received_at`, `body_hash`, `idempotency_key`)
SELECT printf('%08x-%04x-7', `received_at` >> 16, `received_at` & 65535)
         || substr(r, 1, 3) || '-' || substr('89ab', unicode(substr(r, 4, 1)) % 4 + 1, 1) || substr(r, 5, 3) || '-' || substr(r, 8, 12),
       `type`, `body`, `received_at`, `body_hash`, `idempotency_key`
FROM (SELECT *, substr('0000000000000000000' || lower(hex(`id`)), -19) AS r FROM `events`);
--> statement-breakpoint
CREATE TABLE `__new_deliveries` (
	`id` text NOT NULL,
	`event_id` text NOT NULL,
	`channel_id` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`retry_base` integer DEFAULT 0 NOT NULL,
	`generation` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status_code` integer,
	`last_error` text,
	`attempts` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_deliveries` (`id`, `event_id`, `channel_id`, `event_type`, `status`, `attempt_count`, `retry_base`, `generation`,
                                `next_attempt_at`, `last_status_code`, `last_error`, `attempts`, `created_at`, `updated_at`)
SELECT printf('%08x-%04x-7', t >> 16, t & 65535)
         || substr(r, 1, 3) || '-' || substr('89ab', unicode(substr(r, 4, 1)) % 4 + 1, 1) || substr(r, 5, 3) || '-' || substr(r, 8, 12),
       CASE WHEN received_at IS NULL THEN `event_id` ELSE printf('%08x-%04x-7', received_at >> 16, received_at & 65535)
         || substr(er, 1, 3) || '-' || substr('89ab', unicode(substr(er, 4, 1)) % 4 + 1, 1) || substr(er, 5, 3) || '-' || substr(er, 8, 12) END,
       `channel_id`, `event_type`, `status`, `attempt_count`, `retry_base`, `generation`,
       `next_attempt_at`, `last_status_code`, `last_error`, `attempts`, `created_at`, `updated_at`
FROM (
  SELECT d.*, e.`received_at`, coalesce(e.`received_at`, d.`created_at`) AS t,
         substr('0000000000000000000' || lower(hex(d.`id`)), -19) AS r,
         substr('0000000000000000000' || lower(hex(e.`id`)), -19) AS er
  FROM `deliveries` AS d LEFT JOIN `events` AS e ON e.`id` = d.`event_id`);
--> statement-breakpoint
DROP TABLE `deliveries`;
--> statement-breakpoint
ALTER TABLE `__new_deliveries` RENAME TO `deliveries`;
--> statement-breakpoint
CREATE INDEX `deliveries_live` ON `deliveries` (`next_attempt_at`) WHERE "deliveries"."status" in ('pending', 'retrying', 'held');
--> statement-breakpoint
DROP TABLE `events`;
--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;
--> statement-breakpoint
CREATE INDEX `events_body_hash` ON `events` (`body_hash`);
--> statement-breakpoint
CREATE INDEX `events_idempotency_key` ON `events` (`idempotency_key`) WHERE "events"."idempotency_key" is not null;

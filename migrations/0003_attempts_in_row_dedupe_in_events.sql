-- Fewer rows written per delivery (D1 bills by rows written, index entries included):
-- the attempt log moves into its delivery's row, the dedupe keys into their event's row,
-- and the sweeper's index keeps only live deliveries. Existing data is carried over.
ALTER TABLE `deliveries` ADD `attempts` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
UPDATE `deliveries` SET `attempts` = (
  SELECT json_group_array(json_object(
    'attempt', a.attempt, 'startedAt', a.started_at, 'durationMs', a.duration_ms,
    'statusCode', a.status_code, 'error', a.error, 'responseBody', a.response_body))
  FROM (SELECT * FROM `attempts` WHERE `attempts`.`delivery_id` = `deliveries`.`id` ORDER BY `attempt`, `id`) AS a
) WHERE EXISTS (SELECT 1 FROM `attempts` WHERE `attempts`.`delivery_id` = `deliveries`.`id`);--> statement-breakpoint
DROP TABLE `attempts`;--> statement-breakpoint
ALTER TABLE `events` ADD `body_hash` text;--> statement-breakpoint
ALTER TABLE `events` ADD `idempotency_key` text;--> statement-breakpoint
UPDATE `events` SET
  `body_hash` = (SELECT substr(k.`key`, 6) FROM `event_keys` AS k WHERE k.`event_id` = `events`.`id` AND k.`key` LIKE 'body:%'),
  `idempotency_key` = (SELECT substr(k.`key`, 6) FROM `event_keys` AS k WHERE k.`event_id` = `events`.`id` AND k.`key` LIKE 'idem:%')
WHERE `id` IN (SELECT `event_id` FROM `event_keys`);--> statement-breakpoint
DROP TABLE `event_keys`;--> statement-breakpoint
CREATE INDEX `events_body_hash` ON `events` (`body_hash`);--> statement-breakpoint
CREATE INDEX `events_idempotency_key` ON `events` (`idempotency_key`) WHERE "events"."idempotency_key" is not null;--> statement-breakpoint
DROP INDEX `deliveries_due`;--> statement-breakpoint
CREATE INDEX `deliveries_live` ON `deliveries` (`next_attempt_at`) WHERE "deliveries"."status" in ('pending', 'retrying');

DROP INDEX `deliveries_live`;--> statement-breakpoint
CREATE INDEX `deliveries_live` ON `deliveries` (`next_attempt_at`) WHERE "deliveries"."status" in ('pending', 'retrying', 'held');--> statement-breakpoint
ALTER TABLE `channels` ADD `paused` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `channels` ADD `rate_limit` integer;
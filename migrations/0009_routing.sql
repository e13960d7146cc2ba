ALTER TABLE `channels` ADD `filter` text;--> statement-breakpoint
ALTER TABLE `channels` ADD `filter_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `channels` ADD `format` text DEFAULT 'raw' NOT NULL;
ALTER TABLE `channels` ADD `transform` text;--> statement-breakpoint
ALTER TABLE `channels` ADD `auth` text;
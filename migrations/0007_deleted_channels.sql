CREATE TABLE `deleted_channels` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`deleted_at` integer NOT NULL
);

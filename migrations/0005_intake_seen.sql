CREATE TABLE `intake_seen` (
	`kind` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);

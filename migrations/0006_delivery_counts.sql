-- Counts per channel and hour for the stats. WITHOUT ROWID: the primary key is the table,
-- so a new channel-hour costs one row written, not a row and an index entry.
CREATE TABLE `delivery_counts` (
	`channel_id` text NOT NULL,
	`hour` integer NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`cancelled` integer DEFAULT 0 NOT NULL,
	`latency` text DEFAULT '[]' NOT NULL,
	`last_error` text,
	`last_failure_at` integer,
	PRIMARY KEY(`channel_id`, `hour`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Deliveries that ended before this migration are counted too (their latency is not:
-- the histogram starts with the attempts made from now on).
INSERT INTO `delivery_counts` (`channel_id`, `hour`, `succeeded`, `failed`, `cancelled`)
SELECT `channel_id`, `created_at` - `created_at` % 3600000,
       sum(`status` = 'succeeded'), sum(`status` = 'failed'), sum(`status` = 'cancelled')
FROM `deliveries` WHERE `status` IN ('succeeded', 'failed', 'cancelled')
GROUP BY 1, 2;

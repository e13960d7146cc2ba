-- Ordered delivery (src/flow/lanes.ts): a channel's Ordering, and each delivery's lane, with an
-- index over the live deliveries of ordered channels only (a lane's head is one seek).
ALTER TABLE `channels` ADD `ordering` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `lane` text;--> statement-breakpoint
CREATE INDEX `deliveries_lane` ON `deliveries` (`channel_id`,`lane`,`id`) WHERE "deliveries"."lane" is not null and "deliveries"."status" in ('pending', 'retrying', 'held');
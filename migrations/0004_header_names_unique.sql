-- A channel names a header at most once, in any case, enforced by the database so that
-- concurrent adds cannot both pass. Duplicates stored before this (by a race) are
-- dropped, keeping the oldest, which is the one delivery sent first.
DELETE FROM `channel_headers` WHERE EXISTS (
  SELECT 1 FROM `channel_headers` AS older
  WHERE older.`channel_id` = `channel_headers`.`channel_id`
    AND lower(older.`name`) = lower(`channel_headers`.`name`)
    AND (older.`created_at` < `channel_headers`.`created_at`
      OR (older.`created_at` = `channel_headers`.`created_at` AND older.`id` < `channel_headers`.`id`)));--> statement-breakpoint
CREATE UNIQUE INDEX `channel_headers_name` ON `channel_headers` (`channel_id`,lower("name"));

-- How many times in a row the sweeper re-sent a delivery with no attempt between: its
-- backoff, counted apart from the generation, which an admin's redeliver raises too.
ALTER TABLE `deliveries` ADD `reclaims` integer DEFAULT 0 NOT NULL;
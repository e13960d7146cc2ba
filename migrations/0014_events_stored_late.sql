-- Events the intake accepted while D1 could not take them (parked on the storing queue),
-- noted when they are stored: the stats count them per window. Keyed by the event's id (a
-- UUIDv7, in time order), so a window is a range of the key and noting an event twice is a
-- no-op. Purged with the events. WITHOUT ROWID: the key is the table (drizzle cannot say it).
CREATE TABLE `events_stored_late` (
	`event_id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL,
	`stored_at` integer NOT NULL
) WITHOUT ROWID;

-- The sweeper looks every minute for channels failing for 5 days: this partial index holds
-- only enabled channels in a failure streak, so that look reads those, not every channel.
CREATE INDEX `channels_failing` ON `channels` (`failing_since`) WHERE "channels"."enabled" = 1 and "channels"."failing_since" is not null;

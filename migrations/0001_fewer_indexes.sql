DROP INDEX `attempts_started`;--> statement-breakpoint
DROP INDEX `deliveries_created`;
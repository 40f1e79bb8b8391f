DROP INDEX `outbox_open_lane`;--> statement-breakpoint
CREATE INDEX `outbox_open_lane_due` ON `outbox` (`lane`,`next_at`,`id`) WHERE done_at IS NULL AND gave_up_at IS NULL;
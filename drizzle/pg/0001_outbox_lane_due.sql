DROP INDEX "outbox_open_lane";--> statement-breakpoint
CREATE INDEX "outbox_open_lane_due" ON "outbox" USING btree ("lane","next_at","id") WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_claimed" ON "outbox" USING btree ("lane","claimed_until") WHERE claimed_until IS NOT NULL;
CREATE TABLE "audit_checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"at" bigint NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL,
	"slack_ts" text
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"type" text NOT NULL,
	"request_id" text,
	"actor" text NOT NULL,
	"data" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"key_id" text,
	"signature" text
);
--> statement-breakpoint
CREATE TABLE "audit_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"request_id" text,
	"lane" text NOT NULL,
	"payload" json NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"last_error" text,
	"done_at" bigint,
	"gave_up_at" bigint,
	"claimed_by" text,
	"claimed_until" bigint
);
--> statement-breakpoint
CREATE TABLE "outbox_lanes" (
	"lane" text PRIMARY KEY NOT NULL,
	"paused_until" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "requests" (
	"id" text PRIMARY KEY NOT NULL,
	"client" text NOT NULL,
	"webhook_id" text NOT NULL,
	"payload_sha256" text NOT NULL,
	"status" text NOT NULL,
	"action" text NOT NULL,
	"title" text NOT NULL,
	"summary" text,
	"resource" text,
	"environment" text,
	"risk" text NOT NULL,
	"requester" json NOT NULL,
	"requester_slack_id" text,
	"requester_email" text,
	"requester_check" text,
	"context" json,
	"links" json,
	"diff" text,
	"approvers" json NOT NULL,
	"min_approvals" integer NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"callback_url" text,
	"channel" text NOT NULL,
	"policy_rule" text,
	"policy_hash" text,
	"deny_reason_required" boolean DEFAULT true NOT NULL,
	"reminder_points" json NOT NULL,
	"reminders_sent" integer DEFAULT 0 NOT NULL,
	"next_reminder_at" bigint,
	"redactions" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"decided_at" bigint,
	"decided_by" text,
	"reason" text,
	"slack_channel" text,
	"slack_ts" text,
	"slack_url" text,
	"card_posted_at" bigint,
	"delivery_error" json,
	"caller" json,
	"attestation" text,
	"consumed_at" bigint
);
--> statement-breakpoint
CREATE TABLE "votes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"user_id" text NOT NULL,
	"team_id" text,
	"enterprise_id" text,
	"user_name" text,
	"decision" text NOT NULL,
	"reason" text,
	"at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "votes" ADD CONSTRAINT "votes_request_id_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_request" ON "audit_events" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "audit_type_seq" ON "audit_events" USING btree ("type","seq");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("next_at") WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_request_lane" ON "outbox" USING btree ("request_id","lane") WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_open_lane" ON "outbox" USING btree ("lane","id") WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "requests_client_webhook" ON "requests" USING btree ("client","webhook_id");--> statement-breakpoint
CREATE INDEX "requests_pending_expiry" ON "requests" USING btree ("expires_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "requests_pending_reminder" ON "requests" USING btree ("next_reminder_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "requests_created" ON "requests" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "requests_pending_created" ON "requests" USING btree ("created_at","id") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "requests_pending_channel" ON "requests" USING btree ("channel","created_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "requests_requester_slack" ON "requests" USING btree ("requester_slack_id","created_at");--> statement-breakpoint
CREATE INDEX "requests_requester_email" ON "requests" USING btree ("requester_email","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "votes_request_user" ON "votes" USING btree ("request_id","user_id");
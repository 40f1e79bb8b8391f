CREATE TABLE `audit_checkpoints` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`seq` integer NOT NULL,
	`head_hash` text NOT NULL,
	`at` integer NOT NULL,
	`key_id` text NOT NULL,
	`signature` text NOT NULL,
	`slack_ts` text
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`request_id` text,
	`actor` text NOT NULL,
	`data` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	`key_id` text,
	`signature` text
);
--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_events` (`request_id`);--> statement-breakpoint
CREATE TABLE `audit_keys` (
	`key_id` text PRIMARY KEY NOT NULL,
	`public_key` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`request_id` text,
	`lane` text NOT NULL,
	`payload` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_error` text,
	`done_at` integer,
	`gave_up_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`next_at`) WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE INDEX `outbox_request_lane` ON `outbox` (`request_id`,`lane`) WHERE done_at IS NULL AND gave_up_at IS NULL;--> statement-breakpoint
CREATE TABLE `requests` (
	`id` text PRIMARY KEY NOT NULL,
	`client` text NOT NULL,
	`webhook_id` text NOT NULL,
	`payload_sha256` text NOT NULL,
	`status` text NOT NULL,
	`action` text NOT NULL,
	`title` text NOT NULL,
	`summary` text,
	`resource` text,
	`environment` text,
	`risk` text NOT NULL,
	`requester` text NOT NULL,
	`requester_slack_id` text,
	`requester_email` text,
	`context` text,
	`links` text,
	`diff` text,
	`approvers` text NOT NULL,
	`min_approvals` integer NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`callback_url` text,
	`channel` text NOT NULL,
	`policy_rule` text,
	`policy_hash` text,
	`deny_reason_required` integer DEFAULT true NOT NULL,
	`reminder_points` text NOT NULL,
	`reminders_sent` integer DEFAULT 0 NOT NULL,
	`next_reminder_at` integer,
	`redactions` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	`reason` text,
	`slack_channel` text,
	`slack_ts` text,
	`slack_url` text,
	`card_posted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `requests_client_webhook` ON `requests` (`client`,`webhook_id`);--> statement-breakpoint
CREATE INDEX `requests_pending_expiry` ON `requests` (`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `requests_pending_reminder` ON `requests` (`next_reminder_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `requests_created` ON `requests` (`created_at`);--> statement-breakpoint
CREATE TABLE `votes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`user_id` text NOT NULL,
	`team_id` text,
	`enterprise_id` text,
	`user_name` text,
	`decision` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `votes_request_user` ON `votes` (`request_id`,`user_id`);
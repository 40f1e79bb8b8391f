CREATE INDEX `requests_pending_created` ON `requests` (`created_at`,`id`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `requests_pending_channel` ON `requests` (`channel`,`created_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `requests_requester_slack` ON `requests` (`requester_slack_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `requests_requester_email` ON `requests` (`requester_email`,`created_at`);
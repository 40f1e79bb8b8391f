ALTER TABLE `requests` ADD `delivery_error` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `caller` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `attestation` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `consumed_at` integer;
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`endpoint_id` text,
	`external_id` text,
	`event` text,
	`action` text,
	`repo` text,
	`sender` text,
	`status` text NOT NULL,
	`http_status` integer NOT NULL,
	`note` text NOT NULL,
	`owner_id` text,
	`node` text,
	`local_repo` text,
	`command_id` text,
	`task_id` text,
	`task_status` text,
	`task_reason` text,
	`pr_url` text,
	`branch` text,
	`payload` text,
	`bytes` integer NOT NULL,
	`client_ip` text,
	`runs` integer DEFAULT 0 NOT NULL,
	`tries` integer DEFAULT 0 NOT NULL,
	`next_try_at` integer,
	`issue_number` integer,
	`comment_id` integer,
	`comment_body` text,
	`comment_retry_at` integer,
	`comment_tries` integer DEFAULT 0 NOT NULL,
	`received_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deliveries_received` ON `deliveries` (`received_at`);--> statement-breakpoint
CREATE INDEX `deliveries_command` ON `deliveries` (`command_id`);--> statement-breakpoint
CREATE INDEX `deliveries_due` ON `deliveries` (`status`,`next_try_at`);--> statement-breakpoint
CREATE INDEX `deliveries_comment_due` ON `deliveries` (`comment_retry_at`);--> statement-breakpoint
CREATE TABLE `endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`node` text NOT NULL,
	`repo` text,
	`sealed_secret` text NOT NULL,
	`rate_per_minute` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `github_repos` (
	`full_name` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`node` text NOT NULL,
	`repo` text NOT NULL,
	`allow_collaborators` integer NOT NULL,
	`allowed_users` text NOT NULL,
	`on_denied` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `seen_signatures` (
	`key` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);

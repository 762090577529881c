CREATE TABLE `access_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`port` integer NOT NULL,
	`share_id` text,
	`mode` text NOT NULL,
	`form` text NOT NULL,
	`client_ip` text NOT NULL,
	`user_agent` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`status` integer NOT NULL,
	`bytes` integer,
	`authenticated` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `access_log_port_id` ON `access_log` (`port`,`id`);--> statement-breakpoint
CREATE INDEX `access_log_at` ON `access_log` (`at`);--> statement-breakpoint
CREATE TABLE `login_failures` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `shares` (
	`port` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`mode` text NOT NULL,
	`slug` text NOT NULL,
	`password_salt` text,
	`password_hash` text,
	`password_iterations` integer,
	`token_hash` text,
	`cookie_secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `shares_slug_unique` ON `shares` (`slug`);
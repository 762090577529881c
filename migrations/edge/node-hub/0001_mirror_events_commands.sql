CREATE TABLE `commands` (
	`id` text PRIMARY KEY NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`body` text,
	`created_at` integer NOT NULL,
	`state` text NOT NULL,
	`delivered_at` integer,
	`status` integer,
	`result` text
);
--> statement-breakpoint
CREATE INDEX `commands_state` ON `commands` (`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`topic` text NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`payload` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mirror` (
	`topic` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`seq` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`topic`, `key`)
);

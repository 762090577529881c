ALTER TABLE `tasks` ADD `base_branch` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `base_sha` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `diff_stat` text;
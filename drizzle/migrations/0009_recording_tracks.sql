ALTER TABLE "recordings" ADD COLUMN "started_by" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "host_id" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "storage" text DEFAULT 'local' NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "tracks" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "failure_reason" text;
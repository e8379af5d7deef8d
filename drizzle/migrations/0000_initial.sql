CREATE TABLE "chat_messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "chat_messages_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"meeting_id" uuid NOT NULL,
	"sender_participant_id" uuid,
	"sender_user_id" text NOT NULL,
	"sender_name" text NOT NULL,
	"recipient_participant_id" uuid,
	"reply_to" uuid,
	"content" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meeting_stats" (
	"meeting_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"peak_participants" integer DEFAULT 0 NOT NULL,
	"total_joins" integer DEFAULT 0 NOT NULL,
	"joins_refused" integer DEFAULT 0 NOT NULL,
	"participant_seconds" bigint DEFAULT 0 NOT NULL,
	"messages_count" integer DEFAULT 0 NOT NULL,
	"screen_share_seconds" bigint DEFAULT 0 NOT NULL,
	"duration_seconds" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meetings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"scheduled_start" timestamp with time zone,
	"scheduled_end" timestamp with time zone,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"max_participants" integer DEFAULT 100 NOT NULL,
	"is_public" boolean DEFAULT false NOT NULL,
	"lobby_enabled" boolean DEFAULT false NOT NULL,
	"locked" boolean DEFAULT false NOT NULL,
	"password_hash" text,
	"settings" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"media_host_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "participants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"meeting_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"display_name" text NOT NULL,
	"role" text DEFAULT 'member' NOT NULL,
	"status" text DEFAULT 'joined' NOT NULL,
	"media_host_id" text,
	"is_muted" boolean DEFAULT false NOT NULL,
	"is_video_on" boolean DEFAULT false NOT NULL,
	"is_screen_sharing" boolean DEFAULT false NOT NULL,
	"hand_raised_at" timestamp with time zone,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	"left_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recordings" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"meeting_id" uuid NOT NULL,
	"status" text DEFAULT 'recording' NOT NULL,
	"file_url" text,
	"size_bytes" bigint,
	"duration_seconds" integer,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_sender_fk" FOREIGN KEY ("sender_participant_id") REFERENCES "public"."participants"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_stats" ADD CONSTRAINT "meeting_stats_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_messages_tenant_meeting_seq_idx" ON "chat_messages" USING btree ("tenant_id","meeting_id","seq");--> statement-breakpoint
CREATE INDEX "meeting_stats_tenant_idx" ON "meeting_stats" USING btree ("tenant_id","meeting_id");--> statement-breakpoint
CREATE INDEX "meetings_tenant_created_idx" ON "meetings" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "meetings_tenant_status_idx" ON "meetings" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "meetings_tenant_scheduled_idx" ON "meetings" USING btree ("tenant_id","scheduled_start");--> statement-breakpoint
CREATE INDEX "meetings_active_idx" ON "meetings" USING btree ("status") WHERE "meetings"."status" = 'active';--> statement-breakpoint
CREATE INDEX "participants_tenant_meeting_idx" ON "participants" USING btree ("tenant_id","meeting_id","joined_at");--> statement-breakpoint
CREATE INDEX "recordings_tenant_meeting_idx" ON "recordings" USING btree ("tenant_id","meeting_id","started_at");
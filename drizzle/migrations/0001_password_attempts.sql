CREATE TABLE "password_attempts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"meeting_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"failed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "password_attempts" ADD CONSTRAINT "password_attempts_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "password_attempts_meeting_idx" ON "password_attempts" USING btree ("tenant_id","meeting_id","failed_at");--> statement-breakpoint
CREATE INDEX "password_attempts_user_idx" ON "password_attempts" USING btree ("tenant_id","meeting_id","user_id","failed_at");
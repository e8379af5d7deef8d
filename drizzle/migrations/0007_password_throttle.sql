CREATE TABLE "password_throttle" (
	"tenant_id" text NOT NULL,
	"meeting_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"attempts" integer NOT NULL,
	"allowance" integer NOT NULL,
	"strikes" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	CONSTRAINT "password_throttle_pk" PRIMARY KEY("tenant_id","meeting_id","subject")
);
--> statement-breakpoint
ALTER TABLE "password_throttle" ADD CONSTRAINT "password_throttle_meeting_fk" FOREIGN KEY ("meeting_id") REFERENCES "public"."meetings"("id") ON DELETE cascade ON UPDATE no action;
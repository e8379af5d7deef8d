import { bigint, foreignKey, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

/** One row per meeting, accumulated by the media host as the meeting goes on. */
export const meetingStats = pgTable(
  "meeting_stats",
  {
    meetingId: uuid("meeting_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    peakParticipants: integer("peak_participants").notNull().default(0),
    totalJoins: integer("total_joins").notNull().default(0),
    joinsRefused: integer("joins_refused").notNull().default(0),
    participantSeconds: bigint("participant_seconds", { mode: "number" }).notNull().default(0),
    messagesCount: integer("messages_count").notNull().default(0),
    screenShareSeconds: bigint("screen_share_seconds", { mode: "number" }).notNull().default(0),
    durationSeconds: bigint("duration_seconds", { mode: "number" }).notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "meeting_stats_meeting_fk",
    }).onDelete("cascade"),
    index("meeting_stats_tenant_idx").on(t.tenantId, t.meetingId),
  ],
);

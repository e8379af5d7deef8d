import { MEETING_ROLES, PARTICIPANT_STATUSES, type ParticipantStatus } from "@nexus/shared/meeting";
import { boolean, foreignKey, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

export { PARTICIPANT_STATUSES, type ParticipantStatus };
export const PARTICIPANT_ROLES = MEETING_ROLES;

export const participants = pgTable(
  "participants",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    userId: text("user_id").notNull(),
    displayName: text("display_name").notNull(),
    role: text("role", { enum: PARTICIPANT_ROLES }).notNull().default("member"),
    status: text("status", { enum: PARTICIPANT_STATUSES }).notNull().default("joined"),
    mediaHostId: text("media_host_id"),
    isMuted: boolean("is_muted").notNull().default(false),
    isVideoOn: boolean("is_video_on").notNull().default(false),
    isScreenSharing: boolean("is_screen_sharing").notNull().default(false),
    handRaisedAt: timestamp("hand_raised_at", { withTimezone: true }),
    joinedAt: timestamp("joined_at", { withTimezone: true }).notNull().defaultNow(),
    leftAt: timestamp("left_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "participants_meeting_fk",
    }).onDelete("cascade"),
    index("participants_tenant_meeting_idx").on(t.tenantId, t.meetingId, t.joinedAt),
  ],
);

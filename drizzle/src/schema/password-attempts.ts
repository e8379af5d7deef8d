import { foreignKey, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

/**
 * Wrong meeting passwords, one row per failure. Control is stateless (it may run as a function), so the
 * counts that throttle guessing live where every invocation sees them: the database it already uses.
 */
export const passwordAttempts = pgTable(
  "password_attempts",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    userId: text("user_id").notNull(),
    failedAt: timestamp("failed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "password_attempts_meeting_fk",
    }).onDelete("cascade"),
    index("password_attempts_meeting_idx").on(t.tenantId, t.meetingId, t.failedAt),
    index("password_attempts_user_idx").on(t.tenantId, t.meetingId, t.userId, t.failedAt),
  ],
);

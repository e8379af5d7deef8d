import { foreignKey, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

/**
 * Meeting-password attempts, one counter per (meeting, subject): a subject is `user:<sub>` or
 * `addr:<source address>`. Control is stateless (it may run as a function), so the counters live where every
 * invocation sees them, and each attempt is counted by one upsert before the password is checked (row lock:
 * parallel guesses get distinct counts). A window lasts `windowMs * 2^strikes`; a window that ended over its
 * allowance adds a strike (backoff); the right password clears the user's row.
 */
export const passwordThrottle = pgTable(
  "password_throttle",
  {
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    subject: text("subject").notNull(),
    attempts: integer("attempts").notNull(),
    allowance: integer("allowance").notNull(),
    strikes: integer("strikes").notNull().default(0),
    windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: "password_throttle_pk", columns: [t.tenantId, t.meetingId, t.subject] }),
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "password_throttle_meeting_fk",
    }).onDelete("cascade"),
  ],
);

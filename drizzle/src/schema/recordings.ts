import { bigint, foreignKey, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

export const RECORDING_STATUSES = ["recording", "processing", "ready", "failed"] as const;

export const recordings = pgTable(
  "recordings",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    status: text("status", { enum: RECORDING_STATUSES }).notNull().default("recording"),
    fileUrl: text("file_url"),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    durationSeconds: integer("duration_seconds"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "recordings_meeting_fk",
    }).onDelete("cascade"),
    index("recordings_tenant_meeting_idx").on(t.tenantId, t.meetingId, t.startedAt),
  ],
);

import { RECORDING_STATUSES, RECORDING_STORAGES, type RecordingTrack } from "@nexus/shared/rest/recordings";
import {
  bigint,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

export { RECORDING_STATUSES };

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
    /** The user id of the host or co-host who started it. */
    startedBy: text("started_by"),
    /** The media host that captures it (the only writer of the row while it records). */
    hostId: text("host_id"),
    storage: text("storage", { enum: RECORDING_STORAGES }).notNull().default("local"),
    /** Every captured track with its file and start offset; written by the recording media host. */
    tracks: jsonb("tracks").$type<RecordingTrack[]>().notNull().default([]),
    failureReason: text("failure_reason"),
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

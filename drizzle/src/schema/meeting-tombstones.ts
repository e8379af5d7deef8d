import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * What a calendar needs of a deleted meeting to cancel its event (METHOD:CANCEL with a higher SEQUENCE):
 * written by a trigger on delete (migration 0005), so every way of deleting a meeting leaves one.
 */
export const meetingTombstones = pgTable(
  "meeting_tombstones",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    title: text("title").notNull(),
    scheduledStart: timestamp("scheduled_start", { withTimezone: true }),
    scheduledEnd: timestamp("scheduled_end", { withTimezone: true }),
    invitees: jsonb("invitees").$type<string[]>().notNull(),
    icsSequence: integer("ics_sequence").notNull(),
    createdBy: text("created_by").notNull(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("meeting_tombstones_tenant_idx").on(t.tenantId, t.id)],
);

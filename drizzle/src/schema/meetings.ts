import { MEETING_STATUSES, type MeetingSettings, type MeetingStatus } from "@nexus/shared/meeting";
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export { MEETING_STATUSES, type MeetingSettings, type MeetingStatus };

export const meetings = pgTable(
  "meetings",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    status: text("status", { enum: MEETING_STATUSES }).notNull().default("scheduled"),
    scheduledStart: timestamp("scheduled_start", { withTimezone: true }),
    scheduledEnd: timestamp("scheduled_end", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    maxParticipants: integer("max_participants").notNull().default(100),
    isPublic: boolean("is_public").notNull().default(false),
    lobbyEnabled: boolean("lobby_enabled").notNull().default(false),
    locked: boolean("locked").notNull().default(false),
    /** scrypt$N$r$p$salt$hash, or null when the meeting has no password. Never leaves the server. */
    passwordHash: text("password_hash"),
    settings: jsonb("settings").$type<MeetingSettings>().notNull(),
    createdBy: text("created_by").notNull(),
    /** Email addresses the calendar invitation names as attendees (lowercase, unique). */
    invitees: jsonb("invitees").$type<string[]>().notNull().default([]),
    /** iCalendar SEQUENCE: bumped by a trigger whenever what a calendar shows changes (migration 0005). */
    icsSequence: integer("ics_sequence").notNull().default(0),
    /** The media host the meeting is placed on while live. */
    mediaHostId: text("media_host_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("meetings_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("meetings_tenant_status_idx").on(t.tenantId, t.status),
    index("meetings_tenant_scheduled_idx").on(t.tenantId, t.scheduledStart),
    index("meetings_active_idx").on(t.status).where(sql`${t.status} = 'active'`),
  ],
);

import {
  boolean,
  foreignKey,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";

/**
 * A host's invitation for people without an account of the tenant. Only the SHA-256 of the link's token
 * is kept: the token is shown once, at creation, and a leaked table lets nobody in.
 */
export const guestLinks = pgTable(
  "guest_links",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    label: text("label"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** null: no limit. */
    maxUses: integer("max_uses"),
    uses: integer("uses").notNull().default(0),
    /** Guests wait in the lobby even when the meeting's lobby is off. */
    lobby: boolean("lobby").notNull().default(true),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "guest_links_meeting_fk",
    }).onDelete("cascade"),
    uniqueIndex("guest_links_token_idx").on(t.tokenHash),
    index("guest_links_meeting_idx").on(t.tenantId, t.meetingId, t.createdAt),
  ],
);

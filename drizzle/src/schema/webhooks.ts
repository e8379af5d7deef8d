import { WEBHOOK_DELIVERY_STATUSES } from "@nexus/shared/rest/webhooks";
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/** An endpoint a tenant registered. The secret is kept as is: signing needs it, so it cannot be hashed. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    url: text("url").notNull(),
    description: text("description"),
    /** null: every event but the opt-in ones (see OPT_IN_WEBHOOK_EVENTS). */
    events: text("events").array(),
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_tenant_idx").on(t.tenantId, t.createdAt)],
);

/**
 * One row per event some endpoint wanted, written by the database triggers in the same transaction as the
 * change itself (migration 0003), so no change is lost between the write and the announcement. No foreign
 * key to meetings: a meeting.deleted event outlives its meeting.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: uuid("id").primaryKey(),
    /** Commit order of events (per meeting, deliveries follow it). */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id"),
    type: text("type").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_events_tenant_idx").on(t.tenantId, t.createdAt)],
);

export interface WebhookAttempt {
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** The outbox: one row per (event, endpoint), or per redelivery request. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    endpointId: uuid("endpoint_id").notNull(),
    eventId: uuid("event_id").notNull(),
    eventSeq: bigint("event_seq", { mode: "number" }).notNull(),
    meetingId: uuid("meeting_id"),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** A dispatcher holds the row until then; a crashed one's rows come back when it passes. */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    attemptLog: jsonb("attempt_log").$type<WebhookAttempt[]>().notNull().default(sql`'[]'::jsonb`),
    redeliveryOf: uuid("redelivery_of"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.endpointId],
      foreignColumns: [webhookEndpoints.id],
      name: "webhook_deliveries_endpoint_fk",
    }).onDelete("cascade"),
    foreignKey({
      columns: [t.eventId],
      foreignColumns: [webhookEvents.id],
      name: "webhook_deliveries_event_fk",
    }).onDelete("cascade"),
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_head_idx")
      .on(t.endpointId, t.meetingId, t.eventSeq)
      .where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_log_idx").on(t.tenantId, t.endpointId, t.createdAt, t.id),
  ],
);

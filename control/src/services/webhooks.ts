import { randomBytes } from "node:crypto";
import type { webhookDeliveries, webhookEndpoints } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { isUuid } from "@nexus/shared/ids";
import type {
  Webhook,
  WebhookDelivery,
  WebhookEventType,
  WebhookWithSecret,
} from "@nexus/shared/rest/webhooks";

export type WebhookRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Endpoints per tenant: enough for any suite, small enough that fan-out per event stays cheap. */
export const MAX_WEBHOOKS_PER_TENANT = 50;

/** 32 random bytes; the prefix tells a leaked secret apart in logs and secret scanners. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString("base64url")}`;

/** Ids are uuids in the database: anything else cannot exist, so it is simply not found. */
export function idParam(value: string | undefined, what: "webhook" | "delivery"): string {
  if (!value || !isUuid(value)) throw new AppError("not_found", `${what} not found`);
  return value.toLowerCase();
}

/** Webhooks speak for the whole tenant (every meeting's events), so only its admins manage them. */
export function assertCanManageWebhooks(role: string): void {
  if (role !== "admin") throw new AppError("forbidden", "only a tenant admin manages webhooks");
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const webhookView = (w: WebhookRow): Webhook => ({
  id: w.id,
  url: w.url,
  description: w.description,
  events: (w.events as WebhookEventType[] | null) ?? null,
  enabled: w.enabled,
  secret_hint: w.secret.slice(-4),
  created_by: w.createdBy,
  created_at: w.createdAt.toISOString(),
  updated_at: w.updatedAt.toISOString(),
});

export const webhookWithSecret = (w: WebhookRow): WebhookWithSecret => ({
  ...webhookView(w),
  secret: w.secret,
});

export const deliveryView = (d: DeliveryRow & { eventType: string }): WebhookDelivery => ({
  id: d.id,
  webhook_id: d.endpointId,
  event_id: d.eventId,
  event_type: d.eventType as WebhookEventType,
  meeting_id: d.meetingId,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  next_attempt_at: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
  delivered_at: iso(d.deliveredAt),
  redelivery_of: d.redeliveryOf,
  created_at: d.createdAt.toISOString(),
  attempt_log: d.attemptLog ?? [],
});

import * as v from "valibot";
import { PageQuerySchema, pageOf } from "./common.js";

/**
 * What a webhook endpoint can hear. The database produces these (triggers on the meetings, participants,
 * recordings and chat rows), so an event exists exactly when its row changed, whichever side wrote it.
 */
export const WEBHOOK_EVENTS = [
  "meeting.created",
  "meeting.updated",
  "meeting.started",
  "meeting.ended",
  "meeting.deleted",
  "participant.joined",
  "participant.left",
  "recording.started",
  "recording.ready",
  "recording.failed",
  "chat.message",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export const WebhookEventTypeSchema = v.picklist(WEBHOOK_EVENTS);

/** Sent only to endpoints that name them: an endpoint without a filter hears everything else. */
export const OPT_IN_WEBHOOK_EVENTS: readonly WebhookEventType[] = ["chat.message"];

/**
 * Headers of a delivery. The signature is HMAC-SHA256, keyed with the endpoint's secret, over
 * `${timestamp}.${raw body}` in lowercase hex, sent as `v1=<hex>`; the timestamp is Unix seconds, so a
 * receiver can refuse old (replayed) deliveries.
 */
export const WEBHOOK_HEADERS = {
  signature: "nexus-signature",
  timestamp: "nexus-timestamp",
  event: "nexus-event",
  delivery: "nexus-delivery",
} as const;

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

const endpointUrl = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(2048),
  v.url(),
  v.regex(/^https?:\/\//i, "must be an http or https URL"),
);
const description = v.nullable(v.pipe(v.string(), v.maxLength(500)));
const events = v.pipe(v.array(WebhookEventTypeSchema), v.minLength(1), v.maxLength(WEBHOOK_EVENTS.length));

/** `events` absent: every event but the opt-in ones. */
export const CreateWebhookBodySchema = v.strictObject({
  url: endpointUrl,
  description: v.optional(description),
  events: v.optional(events),
  enabled: v.optional(v.boolean(), true),
});
export type CreateWebhookBody = v.InferOutput<typeof CreateWebhookBodySchema>;

/** Partial update; `events: null` goes back to "everything but the opt-in ones"; `rotate_secret` answers the new secret once. */
export const UpdateWebhookBodySchema = v.strictObject({
  url: v.optional(endpointUrl),
  description: v.optional(description),
  events: v.optional(v.nullable(events)),
  enabled: v.optional(v.boolean()),
  rotate_secret: v.optional(v.literal(true)),
});
export type UpdateWebhookBody = v.InferOutput<typeof UpdateWebhookBodySchema>;

export const WebhookSchema = v.object({
  id: v.string(),
  url: v.string(),
  description: v.nullable(v.string()),
  /** null: every event but the opt-in ones. */
  events: v.nullable(v.array(WebhookEventTypeSchema)),
  enabled: v.boolean(),
  /** The last four characters of the secret, to tell secrets apart; the secret itself is shown once. */
  secret_hint: v.string(),
  created_by: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
});
export type Webhook = v.InferOutput<typeof WebhookSchema>;

/** The answer of a create (or a rotation): the only time the secret leaves the server. */
export const WebhookWithSecretSchema = v.object({ ...WebhookSchema.entries, secret: v.string() });
export type WebhookWithSecret = v.InferOutput<typeof WebhookWithSecretSchema>;

export const WebhookPageSchema = v.object({ data: v.array(WebhookSchema) });

export const WebhookAttemptSchema = v.object({
  at: v.string(),
  status_code: v.nullable(v.number()),
  error: v.nullable(v.string()),
  duration_ms: v.number(),
});

export const WebhookDeliverySchema = v.object({
  id: v.string(),
  webhook_id: v.string(),
  event_id: v.string(),
  event_type: WebhookEventTypeSchema,
  meeting_id: v.nullable(v.string()),
  status: v.picklist(WEBHOOK_DELIVERY_STATUSES),
  attempts: v.number(),
  last_status_code: v.nullable(v.number()),
  last_error: v.nullable(v.string()),
  next_attempt_at: v.nullable(v.string()),
  delivered_at: v.nullable(v.string()),
  /** Set on a delivery made by a redeliver request: the delivery it repeats. */
  redelivery_of: v.nullable(v.string()),
  created_at: v.string(),
  /** The most recent attempts, oldest first. */
  attempt_log: v.array(WebhookAttemptSchema),
});
export type WebhookDelivery = v.InferOutput<typeof WebhookDeliverySchema>;

export const ListWebhookDeliveriesQuerySchema = v.object({
  ...PageQuerySchema.entries,
  status: v.optional(v.picklist(WEBHOOK_DELIVERY_STATUSES)),
});
export const WebhookDeliveryPageSchema = pageOf(WebhookDeliverySchema);

/** The body a receiver gets. */
export const WebhookEventSchema = v.object({
  id: v.string(),
  type: WebhookEventTypeSchema,
  tenant_id: v.string(),
  created_at: v.string(),
  data: v.record(v.string(), v.unknown()),
});
export type WebhookEvent = v.InferOutput<typeof WebhookEventSchema>;

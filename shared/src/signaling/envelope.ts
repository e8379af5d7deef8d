import { ERROR_STATUS, type ErrorCode } from "@nexus/shared/errors";
import * as v from "valibot";

/** A request id chosen by the client; echoed in the ack so the client can match answers to questions. */
export const MessageIdSchema = v.union([
  v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
]);
export type MessageId = v.InferOutput<typeof MessageIdSchema>;

/**
 * The first step of parsing anything a client sends: the envelope alone, so that even a request of an
 * unknown type or with bad data can be answered with an error ack carrying its id.
 */
export const RequestEnvelopeSchema = v.object({
  id: MessageIdSchema,
  type: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  data: v.optional(v.unknown()),
});
export type RequestEnvelope = v.InferOutput<typeof RequestEnvelopeSchema>;

/** MessageIdSchema's check written out: every message a server reads starts with it. */
export function isMessageId(id: unknown): id is MessageId {
  if (typeof id === "string") return id.length >= 1 && id.length <= 64;
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= Number.MAX_SAFE_INTEGER;
}

/**
 * RequestEnvelopeSchema's parse written out (same acceptance, same output: the three keys, no others),
 * for the server's hot path where the generic schema walk cost as much as decoding the JSON. The test
 * holds the two to the same answers.
 */
export function readEnvelope(raw: unknown): RequestEnvelope | null {
  if (typeof raw !== "object" || raw === null) return null;
  const { id, type, data } = raw as { id?: unknown; type?: unknown; data?: unknown };
  if (!isMessageId(id)) return null;
  if (typeof type !== "string" || type.length < 1 || type.length > 64) return null;
  return "data" in raw ? { id, type, data } : { id, type };
}

const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];
export const ErrorCodeSchema = v.picklist(ERROR_CODES);

export const AckErrorSchema = v.object({
  code: ErrorCodeSchema,
  message: v.string(),
});
export type AckError = v.InferOutput<typeof AckErrorSchema>;

export const AckSuccessEnvelopeSchema = v.object({
  id: MessageIdSchema,
  success: v.literal(true),
  data: v.unknown(),
});
export const AckFailureEnvelopeSchema = v.object({
  /** null when the message was too broken to carry an id (not JSON, no envelope). */
  id: v.nullable(MessageIdSchema),
  success: v.literal(false),
  error: AckErrorSchema,
});
export const AckEnvelopeSchema = v.variant("success", [AckSuccessEnvelopeSchema, AckFailureEnvelopeSchema]);
export type AckEnvelope = v.InferOutput<typeof AckEnvelopeSchema>;

export const NotificationEnvelopeSchema = v.object({
  type: v.pipe(v.string(), v.minLength(1)),
  data: v.unknown(),
});
export type NotificationEnvelope = v.InferOutput<typeof NotificationEnvelopeSchema>;

/** Anything the server sends: an ack has an id, a notification has none. */
export const ServerEnvelopeSchema = v.union([AckEnvelopeSchema, NotificationEnvelopeSchema]);

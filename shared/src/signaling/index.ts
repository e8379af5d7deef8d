import * as v from "valibot";
import { MessageIdSchema } from "./envelope.js";
import { NOTIFICATION_TYPES, NOTIFICATIONS, type ServerNotification } from "./notifications.js";
import { type ClientRequest, REQUEST_TYPES, REQUESTS } from "./requests.js";

export * from "./client.js";
export * from "./close-codes.js";
export * from "./envelope.js";
export * from "./media-types.js";
export * from "./meeting.js";
export * from "./notifications.js";
export * from "./peer.js";
export * from "./requests.js";

/*
 * The whole protocol as two discriminated unions on `type`, for documentation and JSON Schema export.
 * The server parses in two steps instead (envelope, then the data of the named type) so that it can
 * answer a bad request with an error ack that carries the request's id.
 */
export const ClientRequestSchema = v.variant(
  "type",
  REQUEST_TYPES.map((type) =>
    v.object({ id: MessageIdSchema, type: v.literal(type), data: REQUESTS[type].data }),
  ) as unknown as v.VariantOptions<"type">,
) as unknown as v.GenericSchema<ClientRequest, ClientRequest>;

export const ServerNotificationSchema = v.variant(
  "type",
  NOTIFICATION_TYPES.map((type) =>
    v.object({ type: v.literal(type), data: NOTIFICATIONS[type] }),
  ) as unknown as v.VariantOptions<"type">,
) as unknown as v.GenericSchema<ServerNotification, ServerNotification>;
export * from "./recording.js";

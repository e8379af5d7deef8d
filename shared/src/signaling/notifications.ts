import * as v from "valibot";
import { RtpCapabilitiesSchema } from "./media-types.js";
import { MEETING_NOTIFICATIONS } from "./meeting.js";
import {
  MediaSourceSchema,
  ParticipantStateSchema,
  PeerConnectionStateSchema,
  PeerInfoSchema,
  ProducerInfoSchema,
} from "./peer.js";
import { RECORDING_NOTIFICATIONS } from "./recording.js";

const ProducerEvent = v.object({
  participant_id: v.string(),
  producer_id: v.string(),
  source: MediaSourceSchema,
});

/** Every server -> client notification `{ type, data }` and the schema of its data. */
export const NOTIFICATIONS = {
  "participant-joined": PeerInfoSchema,
  "participant-left": v.object({ participant_id: v.string(), reason: v.string() }),
  "participant-updated": ParticipantStateSchema,
  /** A participant's connection dropped (kept through the grace period) or came back (resumed). */
  "participant-connection": v.object({ participant_id: v.string(), state: PeerConnectionStateSchema }),
  "new-producer": ProducerInfoSchema,
  "producer-paused": ProducerEvent,
  "producer-resumed": ProducerEvent,
  "producer-closed": ProducerEvent,
  "consumer-closed": v.object({ consumer_id: v.string(), producer_id: v.string(), reason: v.string() }),
  "consumer-paused": v.object({ consumer_id: v.string(), producer_id: v.string() }),
  "consumer-resumed": v.object({ consumer_id: v.string(), producer_id: v.string() }),
  "consumer-layers-changed": v.object({
    consumer_id: v.string(),
    spatial_layer: v.nullable(v.number()),
    temporal_layer: v.nullable(v.number()),
  }),
  /** participant_id null: nobody is speaking. */
  "active-speaker": v.object({ participant_id: v.nullable(v.string()), producer_id: v.nullable(v.string()) }),
  "meeting-ended": v.object({ reason: v.string() }),
  /**
   * The room's media worker died and the room was rebuilt on another one: every transport, producer and
   * consumer is gone. Load the new capabilities, re-create transports and producers, consume again.
   */
  "media-reset": v.object({ router_rtp_capabilities: RtpCapabilitiesSchema, reason: v.string() }),
  ...MEETING_NOTIFICATIONS,
  ...RECORDING_NOTIFICATIONS,
} as const satisfies Record<string, v.GenericSchema>;

export type NotificationType = keyof typeof NOTIFICATIONS;
export const NOTIFICATION_TYPES = Object.keys(NOTIFICATIONS) as NotificationType[];
export type NotificationData<T extends NotificationType> = v.InferOutput<(typeof NOTIFICATIONS)[T]>;

export const isNotificationType = (type: string): type is NotificationType =>
  Object.hasOwn(NOTIFICATIONS, type);

export type ServerNotification = {
  [K in NotificationType]: { type: K; data: NotificationData<K> };
}[NotificationType];

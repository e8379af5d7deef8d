import { MeetingRoleSchema } from "@nexus/shared/tokens";
import * as v from "valibot";
import { MediaKindSchema } from "./media-types.js";

/** What a producer carries; "screen" producers follow the one-sharer rule of the meeting. */
export const MediaSourceSchema = v.picklist(["mic", "camera", "screen", "screen-audio"]);
export type MediaSource = v.InferOutput<typeof MediaSourceSchema>;

export const ProducerInfoSchema = v.object({
  producer_id: v.string(),
  participant_id: v.string(),
  kind: MediaKindSchema,
  source: MediaSourceSchema,
  paused: v.boolean(),
});
export type ProducerInfo = v.InferOutput<typeof ProducerInfoSchema>;

/** The state of a participant every other participant sees. */
export const ParticipantStateSchema = v.object({
  participant_id: v.string(),
  is_muted: v.boolean(),
  is_video_on: v.boolean(),
  is_screen_sharing: v.boolean(),
  /** When the hand went up (ISO 8601), null when it is down: sorting by it gives the raise order. */
  hand_raised_at: v.nullable(v.string()),
  /** Changes when a host promotes a member to co-host. */
  role: MeetingRoleSchema,
  /** A host muted this participant and locked it: unmuting is refused until a host releases it. */
  mic_locked: v.boolean(),
});
export type ParticipantState = v.InferOutput<typeof ParticipantStateSchema>;

/**
 * Whether a participant's signaling connection is up. "reconnecting": it dropped and the host keeps the
 * participant (and its media) through the reconnect grace period; others show that rather than a leave.
 */
export const PeerConnectionStateSchema = v.picklist(["connected", "reconnecting"]);
export type PeerConnectionState = v.InferOutput<typeof PeerConnectionStateSchema>;

export const PeerInfoSchema = v.object({
  ...ParticipantStateSchema.entries,
  connection: v.optional(PeerConnectionStateSchema, "connected"),
  user_id: v.string(),
  display_name: v.string(),
  role: MeetingRoleSchema,
  producers: v.array(ProducerInfoSchema),
});
export type PeerInfo = v.InferOutput<typeof PeerInfoSchema>;

import * as v from "valibot";

/**
 * Pub/sub between control and media hosts. Control never holds sockets, so everything it must tell a live
 * room goes through these channels; the host that owns the meeting acts on it.
 */
export const BUS_CHANNELS = {
  /** Meeting-level events, fanned out to every media host (the owner acts, others ignore). */
  meetings: "nexus:meetings",
  /** Recording commands from control's REST API; the host that owns the meeting acts. */
  recordings: "nexus:recordings",
} as const;

export const MeetingEndedSchema = v.object({
  type: v.literal("meeting-ended"),
  tenant_id: v.string(),
  meeting_id: v.string(),
  reason: v.string(),
});

export const MeetingUpdatedSchema = v.object({
  type: v.literal("meeting-updated"),
  tenant_id: v.string(),
  meeting_id: v.string(),
  /** Fields a live room cares about; absent means unchanged. */
  changes: v.object({
    title: v.optional(v.string()),
    max_participants: v.optional(v.number()),
    lobby_enabled: v.optional(v.boolean()),
    locked: v.optional(v.boolean()),
  }),
});

export const MeetingBusMessageSchema = v.variant("type", [MeetingEndedSchema, MeetingUpdatedSchema]);
export type MeetingBusMessage = v.InferOutput<typeof MeetingBusMessageSchema>;

export const RecordingStartCommandSchema = v.object({
  type: v.literal("recording-start"),
  tenant_id: v.string(),
  meeting_id: v.string(),
  /** Chosen by control, so it can find the row the host writes. */
  recording_id: v.string(),
  started_by: v.string(),
  started_by_name: v.nullable(v.string()),
});

export const RecordingStopCommandSchema = v.object({
  type: v.literal("recording-stop"),
  tenant_id: v.string(),
  meeting_id: v.string(),
  recording_id: v.string(),
  stopped_by: v.string(),
});

export const RecordingBusMessageSchema = v.variant("type", [
  RecordingStartCommandSchema,
  RecordingStopCommandSchema,
]);
export type RecordingBusMessage = v.InferOutput<typeof RecordingBusMessageSchema>;

/** A media host as seen in the registry (Redis hash or in-process map). Liveness is judged by the reader. */
export const HostInfoSchema = v.object({
  id: v.string(),
  ws_url: v.string(),
  capacity: v.number(),
  load: v.number(),
  rooms: v.number(),
  draining: v.boolean(),
  heartbeat_at: v.number(),
});
export type HostInfo = v.InferOutput<typeof HostInfoSchema>;

import * as v from "valibot";

/*
 * Recording over signaling: a host or co-host starts and stops it; everybody in the room is told, and a
 * late joiner finds the current state in its join-meeting answer (`recording`).
 */

/** The recording under way in a room, as participants see it. */
export const RecordingStateSchema = v.object({
  recording_id: v.string(),
  /** Participant id and display name of whoever started it (null when started over REST). */
  started_by: v.nullable(v.string()),
  started_by_name: v.nullable(v.string()),
  started_at: v.string(),
});
export type RecordingState = v.InferOutput<typeof RecordingStateSchema>;

export const RECORDING_REQUESTS = {
  /** Refused with `conflict` while one runs, `forbidden` for members. */
  "start-recording": { data: v.object({}), ack: RecordingStateSchema },
  /** Stops the recording under way (refused with `invalid_state` when none is). */
  "stop-recording": {
    data: v.object({}),
    ack: v.object({ recording_id: v.string(), status: v.string() }),
  },
} as const;

export const RECORDING_NOTIFICATIONS = {
  "recording-started": RecordingStateSchema,
  "recording-stopped": v.object({
    recording_id: v.string(),
    /** ready, processing or failed. */
    status: v.string(),
    stopped_by: v.nullable(v.string()),
    /** Why, when it was not stopped by someone (a recorder failed, the meeting ended, the host shut down). */
    reason: v.nullable(v.string()),
  }),
} as const;

import * as v from "valibot";
import { pageOf } from "./common.js";

export const RECORDING_STATUSES = ["recording", "processing", "ready", "failed"] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

/** Where a recording's files live: the host's RECORDINGS_DIR, or an S3-compatible bucket. */
export const RECORDING_STORAGES = ["local", "s3"] as const;

/** One producer's media as captured, without re-encoding: its own file, placed on the recording's clock. */
export const RecordingTrackSchema = v.object({
  id: v.string(),
  participant_id: v.string(),
  display_name: v.string(),
  producer_id: v.string(),
  kind: v.picklist(["audio", "video"]),
  source: v.string(),
  /** mime type as negotiated, e.g. video/VP8, audio/opus. */
  codec: v.string(),
  /** Storage key of the file, relative to the storage root. */
  file: v.string(),
  /** ISO time the track's capture started (its first key frame was asked for). */
  started_at: v.string(),
  /** Milliseconds after the recording's started_at: where the track goes on the recording's timeline. */
  offset_ms: v.number(),
  /** Milliseconds after the meeting's started_at (null when the meeting has none). */
  meeting_offset_ms: v.nullable(v.number()),
  ended_at: v.nullable(v.string()),
  size_bytes: v.nullable(v.number()),
  status: v.picklist(["recording", "ready", "failed"]),
});
export type RecordingTrack = v.InferOutput<typeof RecordingTrackSchema>;

export const RecordingSchema = v.object({
  id: v.string(),
  meeting_id: v.string(),
  status: v.picklist(RECORDING_STATUSES),
  file_url: v.nullable(v.string()),
  size_bytes: v.nullable(v.number()),
  duration_seconds: v.nullable(v.number()),
  started_at: v.string(),
  ended_at: v.nullable(v.string()),
  /** The participant (user id) who started it. */
  started_by: v.optional(v.nullable(v.string())),
  /** Why a failed recording failed. */
  failure_reason: v.optional(v.nullable(v.string())),
  storage: v.optional(v.picklist(RECORDING_STORAGES)),
  tracks: v.optional(v.array(RecordingTrackSchema)),
});
export type Recording = v.InferOutput<typeof RecordingSchema>;

export const RecordingPageSchema = pageOf(RecordingSchema);

/** Download query: without `track`, the composite (when one exists). */
export const RecordingFileQuerySchema = v.object({
  track: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});

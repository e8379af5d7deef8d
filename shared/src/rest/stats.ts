import * as v from "valibot";

export const MeetingStatsSchema = v.object({
  meeting_id: v.string(),
  peak_participants: v.number(),
  total_joins: v.number(),
  joins_refused: v.number(),
  participant_seconds: v.number(),
  messages_count: v.number(),
  screen_share_seconds: v.number(),
  /** From started_at to ended_at (or to now while live); 0 before the meeting starts. */
  duration_seconds: v.number(),
  current_participants: v.number(),
  updated_at: v.nullable(v.string()),
});
export type MeetingStats = v.InferOutput<typeof MeetingStatsSchema>;

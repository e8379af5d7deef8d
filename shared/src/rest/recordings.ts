import * as v from "valibot";
import { pageOf } from "./common.js";

export const RecordingSchema = v.object({
  id: v.string(),
  meeting_id: v.string(),
  status: v.picklist(["recording", "processing", "ready", "failed"]),
  file_url: v.nullable(v.string()),
  size_bytes: v.nullable(v.number()),
  duration_seconds: v.nullable(v.number()),
  started_at: v.string(),
  ended_at: v.nullable(v.string()),
});
export type Recording = v.InferOutput<typeof RecordingSchema>;

export const RecordingPageSchema = pageOf(RecordingSchema);

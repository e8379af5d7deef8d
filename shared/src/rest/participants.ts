import * as v from "valibot";
import { MeetingRoleSchema, PARTICIPANT_STATUSES } from "../meeting.js";
import { PageQuerySchema, pageOf } from "./common.js";

export const PARTICIPANT_STATUS_VALUES = PARTICIPANT_STATUSES;

export const ListParticipantsQuerySchema = v.object({
  ...PageQuerySchema.entries,
  status: v.optional(v.picklist(PARTICIPANT_STATUS_VALUES)),
});

export const ParticipantSchema = v.object({
  id: v.string(),
  meeting_id: v.string(),
  user_id: v.string(),
  display_name: v.string(),
  role: MeetingRoleSchema,
  status: v.picklist(PARTICIPANT_STATUS_VALUES),
  is_muted: v.boolean(),
  is_video_on: v.boolean(),
  is_screen_sharing: v.boolean(),
  hand_raised_at: v.nullable(v.string()),
  joined_at: v.string(),
  left_at: v.nullable(v.string()),
});
export type Participant = v.InferOutput<typeof ParticipantSchema>;

export const ParticipantPageSchema = pageOf(ParticipantSchema);

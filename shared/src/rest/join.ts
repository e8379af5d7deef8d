import * as v from "valibot";
import { MeetingRoleSchema } from "../tokens.js";

export const JoinBodySchema = v.strictObject({
  password: v.optional(v.pipe(v.string(), v.maxLength(128))),
  display_name: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100))),
});
export type JoinBody = v.InferOutput<typeof JoinBodySchema>;

/** Where to connect and with what: the join token is bound to host_id and expires quickly. */
export const JoinAnswerSchema = v.object({
  ws_url: v.string(),
  join_token: v.string(),
  participant_id: v.string(),
  meeting_id: v.string(),
  host_id: v.string(),
  role: MeetingRoleSchema,
  expires_at: v.string(),
});
export type JoinAnswer = v.InferOutput<typeof JoinAnswerSchema>;

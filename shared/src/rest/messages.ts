import * as v from "valibot";
import { intQuery } from "./common.js";

/** Chat history by sequence number: `after` pages forward, `before` pages backward (newest first window). */
export const ListMessagesQuerySchema = v.object({
  limit: v.optional(intQuery(1, 100)),
  before: v.optional(intQuery(1, Number.MAX_SAFE_INTEGER)),
  after: v.optional(intQuery(0, Number.MAX_SAFE_INTEGER)),
});

export const ChatMessageSchema = v.object({
  id: v.string(),
  seq: v.number(),
  meeting_id: v.string(),
  sender_participant_id: v.nullable(v.string()),
  sender_user_id: v.string(),
  sender_name: v.string(),
  recipient_participant_id: v.nullable(v.string()),
  reply_to: v.nullable(v.string()),
  content: v.string(),
  created_at: v.string(),
});
export type ChatMessage = v.InferOutput<typeof ChatMessageSchema>;

/** Messages in ascending seq; has_more says whether another page exists in the direction asked. */
export const MessagePageSchema = v.object({
  data: v.array(ChatMessageSchema),
  has_more: v.boolean(),
});

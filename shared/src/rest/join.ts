import * as v from "valibot";
import { noNul } from "../text.js";
import { MeetingRoleSchema } from "../tokens.js";

export const JoinBodySchema = v.strictObject({
  password: v.optional(v.pipe(v.string(), v.maxLength(128), noNul())),
  display_name: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100), noNul())),
});
export type JoinBody = v.InferOutput<typeof JoinBodySchema>;

/**
 * An ICE server as RTCPeerConnection takes it. Control hands out TURN entries with short-lived credentials
 * (the TURN REST API scheme: username `<expiry>:<participant>`, HMAC-SHA1 of it under coturn's shared secret).
 */
export const IceServerSchema = v.object({
  urls: v.union([v.string(), v.array(v.string())]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});
export type IceServer = v.InferOutput<typeof IceServerSchema>;

/** Where to connect and with what: the join token is bound to host_id and expires quickly. */
export const JoinAnswerSchema = v.object({
  ws_url: v.string(),
  join_token: v.string(),
  participant_id: v.string(),
  meeting_id: v.string(),
  host_id: v.string(),
  role: MeetingRoleSchema,
  expires_at: v.string(),
  /** TURN (and STUN) servers for this join; absent when the deployment has no TURN. Pass to the transports. */
  ice_servers: v.optional(v.array(IceServerSchema)),
});
export type JoinAnswer = v.InferOutput<typeof JoinAnswerSchema>;

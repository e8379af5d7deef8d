import * as v from "valibot";
import {
  MEETING_ROLES,
  type MeetingRole,
  MeetingRoleSchema,
  ROLES,
  type Role,
  RoleSchema,
} from "./meeting.js";
import { noNul } from "./text.js";

export { MEETING_ROLES, type MeetingRole, MeetingRoleSchema, ROLES, type Role, RoleSchema };

/** The caller of the REST API, from the user JWT (claim names are mapped by config before this). */
export const UserClaimsSchema = v.object({
  sub: v.pipe(v.string(), v.minLength(1), v.maxLength(256), noNul()),
  tenant_id: v.pipe(v.string(), v.minLength(1), v.maxLength(256), noNul()),
  role: RoleSchema,
  name: v.optional(v.pipe(v.string(), v.maxLength(256), noNul())),
});
export type UserClaims = v.InferOutput<typeof UserClaimsSchema>;

export const JOIN_TOKEN_AUDIENCE = "nexus-meet:media";
export const JOIN_TOKEN_ISSUER = "nexus-meet:control";
/**
 * The `typ` header of a join token. With its audience and issuer it types the token: the media host takes
 * nothing else, and the REST API refuses a token carrying any of the three (a leaked join token is no
 * bearer token, and its `role: "host"` claim no host right).
 */
export const JOIN_TOKEN_TYPE = "nexus-join+jwt";

/**
 * Claims of the join token: control signs it after checking password, state and capacity;
 * the media host verifies it (signature, expiry, host_id == itself, jti single use) before any room work.
 */
export const JoinClaimsSchema = v.object({
  jti: v.pipe(v.string(), v.minLength(8)),
  meeting_id: v.string(),
  participant_id: v.string(),
  tenant_id: v.string(),
  user_id: v.string(),
  name: v.string(),
  role: MeetingRoleSchema,
  host_id: v.string(),
  /** Wait in the lobby even when the meeting's lobby is off (guest links); absent: the meeting decides. */
  lobby: v.optional(v.boolean()),
});
export type JoinClaims = v.InferOutput<typeof JoinClaimsSchema>;

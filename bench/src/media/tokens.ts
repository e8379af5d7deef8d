/**
 * Join tokens for bench members, in one place for the benches and their light client processes (this
 * module imports nothing heavier than the token signer).
 */
import { randomUUID } from "node:crypto";
import { signJoinToken } from "@nexus/platform/join-token";
import type { JoinClaims } from "@nexus/shared/tokens";

export interface MeetingTarget {
  meetingId: string;
  tenantId: string;
  hostId: string;
}

/** The claims of a fresh member (new participant and user ids) of the target's meeting. */
export function memberClaims(target: MeetingTarget, label = "Bench"): JoinClaims {
  const participantId = randomUUID();
  return {
    jti: randomUUID(),
    meeting_id: target.meetingId,
    participant_id: participantId,
    tenant_id: target.tenantId,
    user_id: `user-${participantId.slice(0, 8)}`,
    name: `${label} ${participantId.slice(0, 4)}`,
    role: "member",
    host_id: target.hostId,
  };
}

export async function memberToken(
  target: MeetingTarget,
  options: { secret: string; ttlSeconds: number; label?: string },
): Promise<string> {
  const { token } = await signJoinToken(memberClaims(target, options.label), {
    secret: options.secret,
    now: new Date(),
    ttlSeconds: options.ttlSeconds,
  });
  return token;
}

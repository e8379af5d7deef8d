import { mintTurnCredential } from "@nexus/platform/turn-credentials";
import type { IceServer } from "@nexus/shared/rest/join";
import type { ControlConfig } from "../config.js";

/**
 * The ICE servers of one join: the configured TURN URLs with a credential bound to the participant and
 * valid for the configured TTL. A TURN server checks the expiry when a relay is allocated, so a meeting may
 * outlast it; an ICE restart after it needs a fresh join answer.
 */
export function iceServersFor(
  turn: NonNullable<ControlConfig["turn"]>,
  participantId: string,
  now: Date,
): IceServer[] {
  const { username, credential } = mintTurnCredential(turn.secret, participantId, turn.ttlSeconds, now);
  return [{ urls: turn.urls, username, credential }];
}

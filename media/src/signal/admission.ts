import type { HostRegistry } from "@nexus/platform";
import { verifyJoinTokenSync } from "@nexus/platform/join-token";
import { AppError } from "@nexus/shared/errors";
import { ensureOwnership } from "../cluster/ownership.js";
import type { Admitted } from "../handlers/types.js";
import type { LiveMeetings } from "../meeting/live-meetings.js";
import type { RoomManager } from "../sfu/rooms.js";
import type { UsedTokens } from "./used-tokens.js";

export interface AdmissionDeps {
  hostId: string;
  joinTokenSecret: string;
  claimTtlMs: number;
  rooms: RoomManager;
  meetings: LiveMeetings;
  registry: HostRegistry;
  usedTokens: UsedTokens;
  now: () => Date;
  /** Counts each refusal by its error code. */
  refused(code: string): void;
}

/**
 * Decides whether a WebSocket upgrade becomes a session, before the socket exists: a resume token picks up a
 * peer kept through its reconnect grace; otherwise a join token signed by control for this host, used once,
 * for a meeting that exists, has not ended and that this host owns (claimed here on the first join).
 * Throws an AppError whose status answers the upgrade.
 */
export function createAdmission(deps: AdmissionDeps) {
  const { rooms, meetings, registry, usedTokens, now, hostId } = deps;
  return async ({
    token,
    resume,
    replaces,
  }: {
    token: string;
    resume: string;
    replaces?: string;
  }): Promise<Admitted> => {
    try {
      if (resume) {
        const found = rooms.resumable(resume);
        if (!found) throw new AppError("unauthorized", "that session has ended; join again");
        return { claims: found.peer.claims, resumePeer: found, meeting: null };
      }
      if (!token) throw new AppError("unauthorized", "join token required");
      const { claims, expiresAt } = verifyJoinTokenSync(token, {
        secret: deps.joinTokenSecret,
        hostId,
        now: now(),
      });
      if (!usedTokens.use(claims.jti, expiresAt.getTime()))
        throw new AppError("unauthorized", "join token already used");
      if (rooms.isDraining && !rooms.get(claims.meeting_id)) {
        throw new AppError("unavailable", "this media host is draining");
      }
      const meeting = await meetings.get(claims.tenant_id, claims.meeting_id);
      if (!meeting) throw new AppError("not_found", "meeting not found");
      if (meeting.status === "ended") throw new AppError("invalid_state", "meeting has ended");
      await ensureOwnership(registry, claims.meeting_id, hostId, deps.claimTtlMs);
      // Only a peer of the same person in the same meeting can be replaced; anything else is ignored.
      const old = replaces ? rooms.resumable(replaces) : null;
      const same = old && old.room.id === claims.meeting_id && old.peer.userId === claims.user_id;
      return { claims, resumePeer: null, meeting, replaces: same ? old : null };
    } catch (error) {
      deps.refused(error instanceof AppError ? error.code : "internal");
      throw error;
    }
  };
}

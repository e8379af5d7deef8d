import { AppError } from "@nexus/shared/errors";
import type { MeetingRole } from "@nexus/shared/tokens";
import type { HandlerContext } from "../handlers/types.js";
import { joined } from "../handlers/types.js";
import type { Peer } from "../peer.js";
import type { Room } from "../room.js";

/** Hosts and co-hosts moderate; the role comes from the join token (or a promotion), never from the client. */
export const moderates = (role: MeetingRole): boolean => role === "host" || role === "cohost";

export function asModerator(ctx: HandlerContext): { room: Room; peer: Peer } {
  const placed = joined(ctx);
  if (!moderates(placed.peer.role)) throw new AppError("forbidden", "only hosts can do that");
  return placed;
}

/** The target of a host action: someone in this room whom this moderator may act on. */
export function targetOf(room: Room, actor: Peer, participantId: string): Peer {
  const target = room.peers.get(participantId);
  if (!target) throw new AppError("not_found", "no such participant in this meeting");
  if (target.role === "host" && actor.role !== "host" && target !== actor) {
    throw new AppError("forbidden", "a co-host cannot act on a host");
  }
  return target;
}

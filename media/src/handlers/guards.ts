import { AppError } from "@nexus/shared/errors";
import { moderates } from "../meeting/roles.js";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import type { HandlerContext } from "./types.js";

/** Every media message needs a joined peer in a live room; out-of-order requests are refused here. */
export function joined(ctx: HandlerContext): { room: Room; peer: Peer } {
  const { room, peer } = ctx.session;
  // Nothing of the room is reachable from the lobby, not even by sending media messages straight away.
  if (ctx.session.lobby && !peer) throw new AppError("forbidden", "waiting in the lobby");
  if (!room || !peer || room.closed || room.peers.get(peer.id) !== peer) {
    throw new AppError("invalid_state", "join the meeting first");
  }
  return { room, peer };
}

/** A joined host or co-host; members are refused with `forbidden`. */
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

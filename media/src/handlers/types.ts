import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { AckData, RequestData, RequestType } from "@nexus/shared/signaling/requests";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { LobbyEntry } from "../meeting/lobby-book.js";
import type { MeetingServices } from "../meeting/services.js";
import type { Peer } from "../peer.js";
import type { Room } from "../room.js";
import type { RoomManager } from "../rooms.js";
import type { ClientConnection } from "../signal-server.js";

/** One WebSocket connection's view of the meeting: who it is, and once joined, its room and peer. */
export interface Session {
  readonly conn: ClientConnection;
  readonly claims: JoinClaims;
  /** Set when the connection came with ?resume=: the peer it takes over on join-meeting. */
  readonly resumePeer: { room: Room; peer: Peer } | null;
  room: Room | null;
  peer: Peer | null;
  /** Set while the connection waits in the lobby (and until its admitted join-meeting). */
  lobby?: LobbyEntry | null;
}

export interface HandlerContext {
  session: Session;
  rooms: RoomManager;
  logger: Logger;
  services: MeetingServices;
}

export type Handler<K extends RequestType> = (
  ctx: HandlerContext,
  data: RequestData<K>,
) => Promise<AckData<K>> | AckData<K>;

/** A group of handlers keyed by message type; the registry spreads the groups together. */
export type HandlerGroup<K extends RequestType> = { [P in K]: Handler<P> };

export const defineHandlers = <K extends RequestType>(group: HandlerGroup<K>): HandlerGroup<K> => group;

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

import type { Logger } from "@nexus/platform";
import type { AckData, RequestData, RequestType } from "@nexus/shared/signaling/requests";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { LobbyEntry } from "../meeting/lobby-book.js";
import type { MeetingSnapshot } from "../meeting/meeting-loader.js";
import type { MeetingServices } from "../meeting/services.js";
import type { Connection, Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import type { RoomManager } from "../sfu/rooms.js";

/** One WebSocket connection's view of the meeting: who it is, and once joined, its room and peer. */
export interface Session {
  readonly conn: Connection;
  readonly claims: JoinClaims;
  /** Set when the connection came with ?resume=: the peer it takes over on join-meeting. */
  readonly resumePeer: { room: Room; peer: Peer } | null;
  /**
   * Set when a fresh join came with ?replaces=<resume token> of a peer of the same user that the host still
   * keeps (a client that re-joins because it could not resume): that peer leaves as this one enters, so the
   * others never see the person twice.
   */
  readonly replaces?: { room: Room; peer: Peer } | null;
  /** The meeting row read when the upgrade was admitted (null for a resume): a first join reads it once. */
  readonly meeting: MeetingSnapshot | null;
  room: Room | null;
  peer: Peer | null;
  /** Set while the connection waits in the lobby (and until its admitted join-meeting). */
  lobby?: LobbyEntry | null;
}

/** What admission of an upgrade decides, before the socket exists. */
export type Admitted = Pick<Session, "claims" | "resumePeer" | "meeting" | "replaces">;

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

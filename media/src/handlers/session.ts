import { AppError, isAppError } from "@nexus/shared/errors";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { RtpCapabilitiesWire } from "@nexus/shared/signaling/media-types";
import type { AckData } from "@nexus/shared/signaling/requests";
import type { MeetingSnapshot } from "../meeting/meeting-loader.js";
import { moderates } from "../meeting/roles.js";
import { joined } from "./guards.js";
import { lobbyGate, tellAboutWaiting, waitInLobby } from "./lobby.js";
import { defineHandlers, type HandlerContext } from "./types.js";

type JoinAck = AckData<"join-meeting">;

/** Puts the connection in the room: a resumed peer taken over, or a new participant. */
async function enterRoom(ctx: HandlerContext, meeting: MeetingSnapshot | null): Promise<JoinAck> {
  const { session, rooms } = ctx;
  const taken = session.resumePeer;
  let placed: Awaited<ReturnType<typeof rooms.join>>;
  if (taken) {
    if (taken.room.closed || taken.room.peers.get(taken.peer.id) !== taken.peer) {
      throw new AppError("not_found", "that session has ended; join again");
    }
    taken.room.resume(taken.peer, session.conn);
    placed = { room: taken.room, peer: taken.peer, resumed: true };
  } else {
    const old = session.replaces;
    if (old && !old.room.closed && old.room.peers.get(old.peer.id) === old.peer) {
      const oldConn = old.peer.conn;
      old.room.leave(old.peer, "rejoined");
      oldConn?.close(CLOSE_CODES.replaced, "replaced by a new connection");
    }
    placed = await rooms.join(session.claims, session.conn, meeting ?? undefined);
  }
  const { room, peer, resumed } = placed;
  if (session.conn.closed) {
    // The client went away while the room was being prepared: treat it like any other drop.
    room.disconnected(peer, session.conn);
    throw new AppError("unavailable", "connection closed");
  }
  session.room = room;
  session.peer = peer;
  return {
    meeting_id: room.id,
    participant_id: peer.id,
    display_name: peer.displayName,
    role: peer.role,
    router_rtp_capabilities: room.rtpCapabilities as RtpCapabilitiesWire,
    peers: room.othersOf(peer),
    settings: room.meeting.settings,
    resume_token: peer.resumeToken,
    reconnect_grace_ms: rooms.reconnectGraceMs,
    resumed,
    transport_ids: resumed ? [...peer.transports.keys()] : [],
    producer_ids: resumed ? [...peer.producers.keys()] : [],
    recording: ctx.services.recordings?.stateOf(room.id) ?? null,
  };
}

/**
 * join-meeting, the one handler of it: the lobby gate first (lobby.ts decides who waits), then the room. A
 * resumed peer and a participant a host admitted from the lobby pass the gate without reading it.
 */
async function joinMeeting(ctx: HandlerContext): Promise<JoinAck | Awaited<ReturnType<typeof waitInLobby>>> {
  const { session, services } = ctx;
  const claims = session.claims;
  if (session.peer && session.room && !session.room.closed) {
    throw new AppError("invalid_state", "already joined");
  }
  const resuming = session.resumePeer !== null;
  const entry = session.lobby ?? null;
  if (!resuming && entry && !entry.admitted)
    throw new AppError("invalid_state", "still waiting in the lobby");
  // The row read when this connection was admitted (moments ago) serves a fresh join; one that waited in the
  // lobby reads it again (from memory while the room is live), since a host may have changed it meanwhile.
  let meeting: MeetingSnapshot | null = !resuming && !entry ? session.meeting : null;
  if (!resuming && !entry) {
    if (!meeting) meeting = await services.meetings.get(claims.tenant_id, claims.meeting_id);
    if (!meeting) throw new AppError("not_found", "meeting not found");
    if (!lobbyGate(ctx, meeting).pass) return waitInLobby(ctx);
  }
  let ack: JoinAck;
  try {
    ack = await enterRoom(ctx, meeting);
  } catch (error) {
    if (isAppError(error) && error.code === "meeting_full") {
      services.records.refused(claims.tenant_id, claims.meeting_id);
    }
    throw error;
  }
  if (entry) {
    services.lobby.remove(entry);
    session.lobby = null;
  }
  const peer = session.peer;
  if (peer && moderates(peer.role)) tellAboutWaiting(services, claims.meeting_id, peer);
  // Hosts pass the gate without it, yet their lobby and lock buttons need the switches' current state.
  meeting ??= await services.meetings.get(claims.tenant_id, claims.meeting_id);
  if (!meeting) return ack;
  // The ack is this join's own fresh object: extended in place (an object spread of it cost microseconds).
  return Object.assign(ack, { lobby_enabled: meeting.lobbyEnabled, locked: meeting.locked });
}

export const sessionHandlers = defineHandlers({
  "join-meeting": joinMeeting,

  "leave-meeting": (ctx) => {
    const { room, peer } = joined(ctx);
    room.leave(peer, "left");
    ctx.session.room = null;
    ctx.session.peer = null;
    return {};
  },
});

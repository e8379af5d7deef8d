import { AppError } from "@nexus/shared/errors";
import type { RtpCapabilitiesWire } from "@nexus/shared/signaling/media-types";
import { defineHandlers, joined } from "./types.js";

export const sessionHandlers = defineHandlers({
  "join-meeting": async (ctx) => {
    const { session, rooms } = ctx;
    if (session.peer && session.room && !session.room.closed) {
      throw new AppError("invalid_state", "already joined");
    }
    const taken = session.resumePeer;
    let placed: Awaited<ReturnType<typeof rooms.join>>;
    if (taken) {
      if (taken.room.closed || taken.room.peers.get(taken.peer.id) !== taken.peer) {
        throw new AppError("not_found", "that session has ended; join again");
      }
      taken.room.resume(taken.peer, session.conn);
      placed = { room: taken.room, peer: taken.peer, resumed: true };
    } else {
      placed = await rooms.join(session.claims, session.conn);
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
      resumed,
      transport_ids: resumed ? [...peer.transports.keys()] : [],
      producer_ids: resumed ? [...peer.producers.keys()] : [],
    };
  },

  "leave-meeting": (ctx) => {
    const { room, peer } = joined(ctx);
    room.leave(peer, "left");
    ctx.session.room = null;
    ctx.session.peer = null;
    return {};
  },
});

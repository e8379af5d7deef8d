import { BUS_CHANNELS } from "@nexus/shared/bus";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { MeetingServices } from "../meeting/services.js";
import type { Room } from "../sfu/room.js";
import { asModerator, targetOf } from "./guards.js";
import { tellAboutWaiting } from "./lobby.js";
import { defineHandlers } from "./types.js";

const ENDED_BY_HOST = "ended_by_host";

async function publish(services: MeetingServices, message: Parameters<MeetingServices["bus"]["publish"]>[1]) {
  // The database already holds the change; the bus only tells other hosts and control sooner.
  await services.bus
    .publish(BUS_CHANNELS.meetings, message)
    .catch((err) => services.logger.warn({ err }, "bus publish failed"));
}

async function endMeeting(services: MeetingServices, room: Room): Promise<void> {
  const { tenantId, id } = room.meeting;
  await services.rows.end(tenantId, id);
  services.meetings.forget(id);
  services.lobby.endMeeting(tenantId, id, ENDED_BY_HOST);
  // After this turn, so the host's own ack goes out before its connection closes with the room (an
  // in-process bus would hand the ended message to this host's own subscriber straight away).
  setImmediate(() => {
    room.end(ENDED_BY_HOST);
    void publish(services, {
      type: "meeting-ended",
      tenant_id: tenantId,
      meeting_id: id,
      reason: ENDED_BY_HOST,
    });
  });
}

/** What hosts and co-hosts may do to others; members are refused with `forbidden`. */
export const hostControlHandlers = defineHandlers({
  "mute-participant": async (ctx, data) => {
    const { room, peer } = asModerator(ctx);
    const target = targetOf(room, peer, data.participant_id);
    await room.hostMute(target, data.lock ?? false);
    target.notify("moderated", { action: "mute", by: peer.id, locked: target.state.mic_locked });
    return {};
  },

  "stop-video": async (ctx, data) => {
    const { room, peer } = asModerator(ctx);
    const target = targetOf(room, peer, data.participant_id);
    await room.setVideoOn(target, false);
    target.notify("moderated", { action: "stop-video", by: peer.id });
    return {};
  },

  "lower-hand": (ctx, data) => {
    const { room, peer } = asModerator(ctx);
    const target = targetOf(room, peer, data.participant_id);
    room.setHand(target, false, ctx.services.now());
    target.notify("moderated", { action: "lower-hand", by: peer.id });
    return {};
  },

  promote: (ctx, data) => {
    const { room, peer } = asModerator(ctx);
    const target = targetOf(room, peer, data.participant_id);
    if (room.promote(target)) {
      target.notify("moderated", { action: "promote", by: peer.id });
      tellAboutWaiting(ctx.services, room.id, target);
    }
    return { role: target.role };
  },

  "remove-participant": async (ctx, data) => {
    const { room, peer } = asModerator(ctx);
    const target = targetOf(room, peer, data.participant_id);
    const { services } = ctx;
    target.notify("removed", { by: peer.id });
    const conn = target.conn;
    room.remove(target);
    conn?.close(CLOSE_CODES.denied, "removed by a host");
    // The recorder writes "left" first (its queue keeps order); "removed" says why.
    await services.recorder.removed(room.meeting.tenantId, target.id);
    return {};
  },

  "end-meeting": async (ctx) => {
    const { room } = asModerator(ctx);
    await endMeeting(ctx.services, room);
    return {};
  },

  "lock-meeting": async (ctx, data) => {
    const { room } = asModerator(ctx);
    const { services } = ctx;
    const { tenantId, id } = room.meeting;
    await services.rows.setLocked(tenantId, id, data.locked);
    services.meetings.changed(tenantId, id, { locked: data.locked });
    room.broadcast("meeting-updated", { locked: data.locked });
    await publish(services, {
      type: "meeting-updated",
      tenant_id: tenantId,
      meeting_id: id,
      changes: { locked: data.locked },
    });
    return { locked: data.locked };
  },
});

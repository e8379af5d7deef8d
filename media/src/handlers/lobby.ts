import { BUS_CHANNELS } from "@nexus/shared/bus";
import { AppError } from "@nexus/shared/errors";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { LobbyEntry } from "../meeting/lobby-book.js";
import type { MeetingSnapshot } from "../meeting/meeting-loader.js";
import { moderates } from "../meeting/roles.js";
import type { MeetingServices } from "../meeting/services.js";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import { asModerator } from "./guards.js";
import { defineHandlers, type HandlerContext, type Session } from "./types.js";

const lobbyRequest = (entry: LobbyEntry) => ({
  participant_id: entry.participantId,
  user_id: entry.userId,
  name: entry.name,
  requested_at: entry.requestedAt.toISOString(),
});

function moderatorsOf(room: Room | undefined): Peer[] {
  return room ? [...room.peers.values()].filter((p) => moderates(p.role)) : [];
}

/** A host arriving (or promoted) learns of everyone already waiting. */
export function tellAboutWaiting(services: MeetingServices, meetingId: string, moderator: Peer): void {
  for (const entry of services.lobby.waiting(meetingId))
    moderator.notify("lobby-request", lobbyRequest(entry));
}

function setStatus(services: MeetingServices, entry: LobbyEntry, status: "denied" | "left"): Promise<void> {
  return services.recorder.lobbyEnded(entry.tenantId, entry.participantId, status);
}

/**
 * The lobby gate of a first join: hosts and co-hosts pass, others wait when the meeting has its lobby on, and
 * nobody but them gets into a locked meeting. `meeting` is the row this connection was admitted with (read
 * when its upgrade was checked, so a lobby switched on by a host elsewhere, or a meeting locked after a token
 * was minted, holds here too); from memory while the room is live here (LiveMeetings).
 */
export function lobbyGate(
  ctx: HandlerContext,
  meeting: MeetingSnapshot,
): { pass: true } | { pass: false; wait: true } {
  const claims = ctx.session.claims;
  if (moderates(claims.role)) return { pass: true };
  if (meeting.locked) {
    ctx.services.records.refused(claims.tenant_id, claims.meeting_id);
    throw new AppError("meeting_locked", "the meeting is locked");
  }
  // A guest link's token may insist on the lobby whatever the meeting's switch says.
  return meeting.lobbyEnabled || claims.lobby === true ? { pass: false, wait: true } : { pass: true };
}

/** Puts this connection in the lobby and tells the moderators; its answer is the lobby ack. */
export async function waitInLobby(ctx: HandlerContext) {
  const { session, services, rooms } = ctx;
  const claims = session.claims;
  if (!services.lobby.hasRoomFor(claims.meeting_id, claims.user_id)) {
    throw new AppError("conflict", "you are already waiting in this meeting's lobby");
  }
  const at = services.now();
  await services.recorder.lobbyEntered(claims, at);
  if (session.conn.closed) throw new AppError("unavailable", "connection closed");
  const entry = services.lobby.add(claims, session.conn, at);
  session.lobby = entry;
  for (const host of moderatorsOf(rooms.get(claims.meeting_id)))
    host.notify("lobby-request", lobbyRequest(entry));
  return {
    lobby: true as const,
    meeting_id: claims.meeting_id,
    participant_id: claims.participant_id,
    display_name: claims.name,
    role: claims.role,
  };
}

/** The waiting connection went away: nobody is waiting there any more. */
export function leftLobby(services: MeetingServices, rooms: HandlerContext["rooms"], session: Session): void {
  const entry = session.lobby;
  if (!entry || !services.lobby.remove(entry)) return;
  session.lobby = null;
  for (const host of moderatorsOf(rooms.get(entry.meetingId))) {
    host.notify("lobby-left", { participant_id: entry.participantId, reason: "left" });
  }
  setStatus(services, entry, "left").catch((err) =>
    services.logger.error({ err }, "could not record a lobby departure"),
  );
}

function chosen(ctx: HandlerContext, meetingId: string, data: { participant_id: string } | { all: true }) {
  const { lobby } = ctx.services;
  if ("all" in data) return lobby.waiting(meetingId);
  const entry = lobby.get(meetingId, data.participant_id);
  if (!entry || entry.admitted) throw new AppError("not_found", "nobody by that id is waiting");
  return [entry];
}

function admit(room: Room, entries: LobbyEntry[]): string[] {
  for (const entry of entries) {
    entry.admitted = true;
    entry.conn.notify("lobby-admitted", { meeting_id: entry.meetingId });
  }
  for (const host of moderatorsOf(room)) {
    for (const entry of entries)
      host.notify("lobby-left", { participant_id: entry.participantId, reason: "admitted" });
  }
  return entries.map((e) => e.participantId);
}

export const lobbyHandlers = defineHandlers({
  "lobby-admit": (ctx, data) => {
    const { room } = asModerator(ctx);
    return { participant_ids: admit(room, chosen(ctx, room.id, data)) };
  },

  "lobby-deny": async (ctx, data) => {
    const { room } = asModerator(ctx);
    const { services } = ctx;
    const entries = chosen(ctx, room.id, data);
    for (const entry of entries) {
      services.lobby.remove(entry);
      entry.conn.notify("lobby-denied", { meeting_id: entry.meetingId });
      entry.conn.close(CLOSE_CODES.denied, "denied by a host");
      services.records.refused(entry.tenantId, entry.meetingId);
      for (const host of moderatorsOf(room)) {
        host.notify("lobby-left", { participant_id: entry.participantId, reason: "denied" });
      }
    }
    await Promise.all(entries.map((e) => setStatus(services, e, "denied")));
    return { participant_ids: entries.map((e) => e.participantId) };
  },

  "set-lobby": async (ctx, data) => {
    const { room } = asModerator(ctx);
    const { services } = ctx;
    const { tenantId, id } = room.meeting;
    await services.rows.setLobby(tenantId, id, data.enabled);
    services.meetings.changed(tenantId, id, { lobby_enabled: data.enabled });
    room.broadcast("meeting-updated", { lobby_enabled: data.enabled });
    await services.bus
      .publish(BUS_CHANNELS.meetings, {
        type: "meeting-updated",
        tenant_id: tenantId,
        meeting_id: id,
        changes: { lobby_enabled: data.enabled },
      })
      .catch((err) => services.logger.warn({ err }, "bus publish failed"));
    // Nobody is left waiting behind a lobby that no longer exists.
    if (!data.enabled) admit(room, services.lobby.waiting(id));
    return { enabled: data.enabled };
  },
});

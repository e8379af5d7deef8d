import { meetings, participants } from "@nexus/drizzle";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { AppError, isAppError } from "@nexus/shared/errors";
import type { RequestData } from "@nexus/shared/signaling/requests";
import { and, eq } from "drizzle-orm";
import type { LobbyEntry } from "../meeting/lobby-book.js";
import { asModerator, moderates } from "../meeting/roles.js";
import type { MeetingServices } from "../meeting/services.js";
import type { Peer } from "../peer.js";
import type { Room } from "../room.js";
import { sessionHandlers } from "./session.js";
import { defineHandlers, type HandlerContext, type Session } from "./types.js";

/** Close code for a participant a host turned away (denied at the lobby, or removed). */
export const CLOSE_DENIED = 4003;

const enterRoom = sessionHandlers["join-meeting"];

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

async function setStatus(
  services: MeetingServices,
  entry: LobbyEntry,
  status: "denied" | "left",
): Promise<void> {
  await services.db
    .update(participants)
    .set({ status, leftAt: services.now() })
    .where(
      and(
        eq(participants.tenantId, entry.tenantId),
        eq(participants.id, entry.participantId),
        eq(participants.status, "lobby"),
      ),
    );
}

/**
 * join-meeting with the lobby in front: hosts go straight to the room handler, others wait when the meeting
 * has its lobby on. The gate is read from the meeting row on every first join, so a lobby switched on by a
 * host elsewhere, or a meeting locked after a token was minted, holds here too (while the room is live here the
 * row comes from memory kept current by the bus and this host's own lock/lobby handlers: LiveMeetings).
 */
async function joinMeeting(ctx: HandlerContext, data: RequestData<"join-meeting">) {
  const { session, services } = ctx;
  const claims = session.claims;
  const resuming = session.resumePeer !== null || (session.peer && session.room && !session.room.closed);
  const entry = session.lobby ?? null;
  if (!resuming && entry && !entry.admitted)
    throw new AppError("invalid_state", "still waiting in the lobby");
  const readGate = async () => {
    const row = await services.meetings.get(claims.tenant_id, claims.meeting_id);
    return row ? { lobbyEnabled: row.lobbyEnabled, locked: row.locked } : undefined;
  };
  let gate: Awaited<ReturnType<typeof readGate>>;
  if (!resuming && !entry && !moderates(claims.role)) {
    gate = await readGate();
    if (!gate) throw new AppError("not_found", "meeting not found");
    if (gate.locked) {
      services.records.refused(claims.tenant_id, claims.meeting_id);
      throw new AppError("meeting_locked", "the meeting is locked");
    }
    if (gate.lobbyEnabled) return wait(ctx);
  }
  let ack: Awaited<ReturnType<typeof enterRoom>>;
  try {
    ack = await enterRoom(ctx, data);
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
  // Hosts skip the gate above, yet their lobby and lock buttons need the switches' current state.
  gate ??= await readGate();
  if (ack.lobby || !gate) return ack;
  // The ack is this join's own fresh object: extended in place (an object spread of it cost microseconds).
  return Object.assign(ack, { lobby_enabled: gate.lobbyEnabled, locked: gate.locked });
}

async function wait(ctx: HandlerContext) {
  const { session, services, rooms } = ctx;
  const claims = session.claims;
  const at = services.now();
  await services.db
    .insert(participants)
    .values({
      id: claims.participant_id,
      tenantId: claims.tenant_id,
      meetingId: claims.meeting_id,
      userId: claims.user_id,
      displayName: claims.name,
      role: claims.role,
      status: "lobby",
      joinedAt: at,
    })
    .onConflictDoNothing();
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
  "join-meeting": joinMeeting,

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
      entry.conn.close(CLOSE_DENIED, "denied by a host");
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
    await services.db
      .update(meetings)
      .set({ lobbyEnabled: data.enabled, updatedAt: services.now() })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, id)));
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

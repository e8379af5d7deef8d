import type { Bus, Logger, Unsubscribe } from "@nexus/platform";
import { BUS_CHANNELS, MeetingBusMessageSchema } from "@nexus/shared/bus";
import * as v from "valibot";
import type { LiveMeetings } from "../meeting/live-meetings.js";
import type { LobbyBook } from "../meeting/lobby-book.js";
import type { RoomManager } from "../sfu/rooms.js";

/** Acts on what control publishes about meetings this host is running; others' meetings are ignored. */
export async function subscribeMeetingEvents(
  bus: Bus,
  rooms: RoomManager,
  lobby: LobbyBook,
  meetings: LiveMeetings,
  logger: Logger,
): Promise<Unsubscribe> {
  return bus.subscribe(BUS_CHANNELS.meetings, (raw) => {
    const parsed = v.safeParse(MeetingBusMessageSchema, raw);
    if (!parsed.success) {
      logger.warn({ raw }, "ignoring malformed bus message");
      return;
    }
    const message = parsed.output;
    // The join path's memory of the row follows first, so no join after this message sees the old row.
    if (message.type === "meeting-ended") meetings.forget(message.meeting_id);
    else meetings.changed(message.tenant_id, message.meeting_id, message.changes);
    // People can wait in the lobby before any room exists here, so they are told whether or not one does.
    if (message.type === "meeting-ended") {
      const waiting = lobby.endMeeting(message.tenant_id, message.meeting_id, message.reason);
      if (waiting > 0) logger.info({ meeting_id: message.meeting_id, waiting }, "lobby closed by control");
    }
    const room = rooms.get(message.meeting_id);
    if (!room || room.meeting.tenantId !== message.tenant_id) return;
    if (message.type === "meeting-ended") {
      logger.info({ meeting_id: message.meeting_id, reason: message.reason }, "meeting ended by control");
      room.end(message.reason);
      return;
    }
    if (message.changes.max_participants !== undefined) {
      room.meeting.maxParticipants = message.changes.max_participants;
    }
  });
}

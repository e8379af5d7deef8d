import type { Bus, Logger, Unsubscribe } from "@nexus/platform";
import { BUS_CHANNELS, RecordingBusMessageSchema } from "@nexus/shared/bus";
import * as v from "valibot";
import type { RoomManager } from "../sfu/rooms.js";
import type { Recordings } from "./recordings.js";

/**
 * Control's REST start/stop arrive here; only the host running the meeting acts. Control learns the outcome
 * from the recording's row (this host inserts it on start and finishes it on stop), not from a reply.
 */
export function subscribeRecordingCommands(
  bus: Bus,
  rooms: RoomManager,
  recordings: Recordings,
  logger: Logger,
): Promise<Unsubscribe> {
  return bus.subscribe(BUS_CHANNELS.recordings, (raw) => {
    const parsed = v.safeParse(RecordingBusMessageSchema, raw);
    if (!parsed.success) {
      logger.warn({ raw }, "ignoring malformed recording command");
      return;
    }
    const command = parsed.output;
    const room = rooms.get(command.meeting_id);
    if (!room || room.closed || room.meeting.tenantId !== command.tenant_id) return;
    const done =
      command.type === "recording-start"
        ? recordings.start(
            room,
            { participantId: null, userId: command.started_by, name: command.started_by_name },
            command.recording_id,
          )
        : recordings.stop(room.id, null, command.recording_id);
    done.catch((err) =>
      logger.warn(
        { err, command: command.type, meeting_id: command.meeting_id },
        "recording command refused",
      ),
    );
  });
}

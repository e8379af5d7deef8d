import { AppError } from "@nexus/shared/errors";
import type { Recordings } from "../recording/recordings.js";
import { asModerator } from "./guards.js";
import { defineHandlers, type HandlerContext } from "./types.js";

function recordingsOf(ctx: HandlerContext): Recordings {
  const recordings = ctx.services.recordings;
  if (!recordings) throw new AppError("unavailable", "recording is not available on this host");
  return recordings;
}

/** A host or co-host starts and stops the meeting's recording; everyone in the room is told. */
export const recordingHandlers = defineHandlers({
  "start-recording": async (ctx) => {
    const { room, peer } = asModerator(ctx);
    return recordingsOf(ctx).start(room, {
      participantId: peer.id,
      userId: peer.userId,
      name: peer.displayName,
    });
  },
  "stop-recording": async (ctx) => {
    const { room, peer } = asModerator(ctx);
    return recordingsOf(ctx).stop(room.id, peer.id);
  },
});

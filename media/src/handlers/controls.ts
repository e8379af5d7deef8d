import { joined } from "./guards.js";
import { defineHandlers } from "./types.js";

/** A participant's own controls: microphone, camera, screen share. */
export const controlHandlers = defineHandlers({
  "toggle-mute": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    const muted = data.muted ?? !peer.state.is_muted;
    await room.setMuted(peer, muted);
    return { muted };
  },
  "toggle-video": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    const videoOn = data.video_on ?? !peer.state.is_video_on;
    await room.setVideoOn(peer, videoOn);
    return { video_on: videoOn };
  },
  "start-screen-share": (ctx) => {
    const { room, peer } = joined(ctx);
    room.startScreenShare(peer);
    return {};
  },
  "stop-screen-share": (ctx) => {
    const { room, peer } = joined(ctx);
    room.stopScreenShare(peer);
    return {};
  },
});

import { defineHandlers, joined } from "./types.js";

export const handHandlers = defineHandlers({
  /** The raise time is the server's, so every host sees the same order. */
  "toggle-hand": (ctx, data) => {
    const { room, peer } = joined(ctx);
    const raised = data.raised ?? peer.state.hand_raised_at === null;
    if (raised && peer.state.hand_raised_at === null) {
      peer.state.hand_raised_at = ctx.services.now().toISOString();
    } else if (!raised) {
      peer.state.hand_raised_at = null;
    }
    room.refresh(peer);
    return { raised, hand_raised_at: peer.state.hand_raised_at };
  },
});

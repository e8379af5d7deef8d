import { joined } from "./guards.js";
import { defineHandlers } from "./types.js";

export const handHandlers = defineHandlers({
  /** The raise time is the server's (strictly increasing within the room), so every host sees the same order. */
  "toggle-hand": (ctx, data) => {
    const { room, peer } = joined(ctx);
    const raised = data.raised ?? peer.state.hand_raised_at === null;
    const at = room.setHand(peer, raised, ctx.services.now());
    return { raised, hand_raised_at: at };
  },
});

import { joined } from "./guards.js";
import { defineHandlers } from "./types.js";

/** Chat: stored first, then announced; history pages backwards by seq. */
export const chatHandlers = defineHandlers({
  "send-message": (ctx, data) => {
    const { room, peer } = joined(ctx);
    return ctx.services.chat.send(room, peer, data);
  },
  "get-messages": (ctx, data) => {
    const { room, peer } = joined(ctx);
    return ctx.services.chat.history(room, peer, data);
  },
});

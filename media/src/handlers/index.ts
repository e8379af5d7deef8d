import type { RequestType } from "@nexus/shared/signaling/requests";
import { chatHandlers } from "./chat.js";
import { controlHandlers } from "./controls.js";
import { handHandlers } from "./hands.js";
import { hostControlHandlers } from "./host-controls.js";
import { lobbyHandlers } from "./lobby.js";
import { mediaHandlers } from "./media.js";
import { recordingHandlers } from "./recording.js";
import { sessionHandlers } from "./session.js";
import type { HandlerGroup } from "./types.js";

/**
 * Every request type has exactly one handler: a new message in the protocol fails typecheck until it does, and
 * the groups share no key (checked by the media tests), so no answer depends on the order of the spreads.
 */
export const HANDLERS: HandlerGroup<RequestType> = {
  ...sessionHandlers,
  ...mediaHandlers,
  ...controlHandlers,
  ...chatHandlers,
  ...handHandlers,
  ...hostControlHandlers,
  ...lobbyHandlers,
  ...recordingHandlers,
};

export type { Handler, HandlerContext, HandlerGroup, Session } from "./types.js";

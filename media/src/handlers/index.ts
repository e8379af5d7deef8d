import type { RequestType } from "@nexus/shared/signaling/requests";
import { controlHandlers } from "./controls.js";
import { mediaHandlers } from "./media.js";
import { sessionHandlers } from "./session.js";
import type { HandlerGroup } from "./types.js";

/** Every request type has exactly one handler: a new message in the protocol fails typecheck until it does. */
export const HANDLERS: HandlerGroup<RequestType> = {
  ...sessionHandlers,
  ...mediaHandlers,
  ...controlHandlers,
};

export type { Handler, HandlerContext, HandlerGroup, Session } from "./types.js";

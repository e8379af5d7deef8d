import { REQUESTS } from "@nexus/shared/signaling/requests";
import { describe, expect, it } from "vitest";
import { chatHandlers } from "../src/handlers/chat.js";
import { controlHandlers } from "../src/handlers/controls.js";
import { handHandlers } from "../src/handlers/hands.js";
import { hostControlHandlers } from "../src/handlers/host-controls.js";
import { HANDLERS } from "../src/handlers/index.js";
import { lobbyHandlers } from "../src/handlers/lobby.js";
import { mediaHandlers } from "../src/handlers/media.js";
import { sessionHandlers } from "../src/handlers/session.js";

const GROUPS = {
  session: sessionHandlers,
  media: mediaHandlers,
  controls: controlHandlers,
  chat: chatHandlers,
  hands: handHandlers,
  "host-controls": hostControlHandlers,
  lobby: lobbyHandlers,
};

describe("the handler table", () => {
  it("answers each message type from exactly one group, so no answer depends on the order of the spreads", () => {
    const owners = new Map<string, string[]>();
    for (const [group, handlers] of Object.entries(GROUPS)) {
      for (const type of Object.keys(handlers)) owners.set(type, [...(owners.get(type) ?? []), group]);
    }
    const shared = [...owners].filter(([, groups]) => groups.length > 1);
    expect(shared).toEqual([]);
    expect(owners.get("join-meeting")).toEqual(["session"]);
  });

  it("has a handler for every request of the protocol and nothing else", () => {
    expect(Object.keys(HANDLERS).sort()).toEqual(Object.keys(REQUESTS).sort());
  });
});

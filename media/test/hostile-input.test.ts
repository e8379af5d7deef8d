import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

/** Signaling input the schemas once let through to the database (hole 7 of issue 16), and hole 9's items. */
describe("hostile signaling input", () => {
  let fx: HostFixture;
  let meetingId: string;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    fx = await startHostFixture({ rtcMinPort: 21720 });
    meetingId = await fx.createMeeting();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await fx?.close();
  });

  const join = async (overrides: Parameters<HostFixture["token"]>[1] = {}) => {
    const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId, overrides)}`);
    open.push(p);
    return p;
  };

  it("refuses NUL characters and absurd numbers with validation_failed, and the sender can still chat", async () => {
    const p = await join();
    for (const data of [{ text: "hi\u0000there" }, { text: "x", to: "a\u0000" }]) {
      await expect(p.client.request("send-message", data)).rejects.toMatchObject({
        code: "validation_failed",
      });
    }
    for (const before of [1e21, Number.MAX_SAFE_INTEGER + 2]) {
      await expect(p.client.request("get-messages", { before })).rejects.toMatchObject({
        code: "validation_failed",
      });
    }
    const sent = await p.client.request("send-message", { text: "still here" });
    expect(sent.text).toBe("still here");
    const page = await p.client.request("get-messages", { before: Number.MAX_SAFE_INTEGER });
    expect(page.messages.map((m) => m.text)).toContain("still here");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

/** Signaling input the schemas once let through to the database (hole 7 of issue 16), and hole 9's items. */
describe("hostile signaling input", () => {
  let fx: HostFixture;
  let meetingId: string;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    fx = await startHostFixture({ env: { MEDIA_MAX_MESSAGE_BYTES: "4096" } });
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

  it("says who sent a message, whatever name they chose, and checks what it replies to", async () => {
    const host = await join({ user_id: "user-1", role: "host", name: "Host" });
    const impostor = await join({ user_id: "mallory", name: "Host" });
    const fromImpostor = impostor.client.waitFor("new-message", (m) => m.text === "I am the host");
    await host.client.request("send-message", { text: "welcome" });
    await impostor.client.request("send-message", { text: "I am the host" });
    const seen = await host.client.waitFor("new-message", (m) => m.text === "I am the host");
    expect(seen.sender).toMatchObject({
      name: "Host",
      participant_id: impostor.id,
      user_id: "mallory",
      role: "member",
    });
    const welcome =
      (await fromImpostor) && impostor.client.received("new-message").find((m) => m.text === "welcome");
    expect(welcome?.sender).toMatchObject({ participant_id: host.id, user_id: "user-1", role: "host" });
    // History says the same.
    const page = await impostor.client.request("get-messages", {});
    const roles = Object.fromEntries(page.messages.map((m) => [m.text, m.sender.role]));
    expect(roles).toMatchObject({ welcome: "host", "I am the host": "member" });

    // reply_to: a message of this meeting the sender may see, nothing else.
    const reply = await impostor.client.request("send-message", { text: "re", reply_to: welcome!.id });
    expect(reply.reply_to).toBe(welcome!.id);
    await expect(
      impostor.client.request("send-message", { text: "re", reply_to: crypto.randomUUID() }),
    ).rejects.toMatchObject({ code: "not_found" });
    const third = await join();
    const secret = await host.client.request("send-message", { text: "psst", to: third.id });
    await expect(
      impostor.client.request("send-message", { text: "re", reply_to: secret.id }),
    ).rejects.toMatchObject({ code: "not_found" });
    const otherMeeting = await fx.createMeeting();
    const elsewhere = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(otherMeeting)}`);
    open.push(elsewhere);
    const foreign = await elsewhere.client.request("send-message", { text: "elsewhere" });
    await expect(
      impostor.client.request("send-message", { text: "re", reply_to: foreign.id }),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("lets one resume token hold one socket at a time", async () => {
    const p = await join();
    const token = p.joinAck.resume_token;
    const url = `${fx.host.wsUrl}/?resume=${encodeURIComponent(token)}`;
    const first = await connect(url);
    const firstClosed = new Promise<number>((resolve) => first.ws.on("close", (code) => resolve(code)));
    const second = await connect(url);
    open.push(first.client, second.client);
    // The older of the two is closed as replaced; the newer takes the participant over.
    expect(await firstClosed).toBe(4409);
    const resumed = await second.client.request("join-meeting", {});
    if ("lobby" in resumed && resumed.lobby) throw new Error("no lobby here");
    expect(resumed).toMatchObject({ participant_id: p.id, resumed: true });
  });

  it("closes a socket that sends a message over the limit with 1009, and the room carries on", async () => {
    const p = await join();
    const { ws, client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(client);
    await client.request("join-meeting", {});
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    ws.send(JSON.stringify({ id: 1, type: "send-message", data: { text: "x".repeat(8_000) } }));
    expect(await closed).toBe(1009);
    expect((await p.client.request("toggle-mute", { muted: true })).muted).toBe(true);
  });

  it("keeps one user to two entries in a meeting's lobby", async () => {
    const lobbyMeeting = await fx.createMeeting({ lobbyEnabled: true });
    const tries = [];
    for (let i = 0; i < 3; i++) {
      const { client } = await connect(
        `${fx.host.wsUrl}/?token=${await fx.token(lobbyMeeting, { user_id: "crowd" })}`,
      );
      open.push(client);
      tries.push(client);
    }
    expect(await tries[0]!.request("join-meeting", {})).toMatchObject({ lobby: true });
    expect(await tries[1]!.request("join-meeting", {})).toMatchObject({ lobby: true });
    await expect(tries[2]!.request("join-meeting", {})).rejects.toMatchObject({ code: "conflict" });
    // Someone else still gets in line.
    const { client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(lobbyMeeting)}`);
    open.push(client);
    expect(await client.request("join-meeting", {})).toMatchObject({ lobby: true });
  });
});

import { meetingStats, participants } from "@nexus/drizzle";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

describe("the lobby", () => {
  let t: TestDatabase;
  let fx: HostFixture;

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  const open = async (meetingId: string, role: "host" | "member" = "member") => {
    const { client, ws } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role })}`);
    return { client, ws, participant: () => new Participant(client, ws) };
  };
  const rowOf = (id: string) => fx.db.db.query.participants.findFirst({ where: (p, { eq }) => eq(p.id, id) });

  it("holds a member who arrives before any host: no router, no peers, every room message refused", async () => {
    const meetingId = await fx.createMeeting({ lobbyEnabled: true });
    const early = await open(meetingId);
    const ack = await early.client.request("join-meeting", {});
    expect(ack).toEqual({
      lobby: true,
      meeting_id: meetingId,
      participant_id: expect.any(String),
      display_name: expect.any(String),
      role: "member",
    });
    expect(ack).not.toHaveProperty("router_rtp_capabilities");
    const refused = [
      early.client.request("create-transport", { direction: "send" }),
      early.client.request("connect-transport", { transport_id: "t", dtls_parameters: { fingerprints: [] } }),
      early.client.request("produce", {
        transport_id: "t",
        kind: "audio",
        rtp_parameters: { codecs: [] },
        source: "mic",
      }),
      early.client.request("consume", { transport_id: "t", producer_id: "p", rtp_capabilities: {} }),
      early.client.request("toggle-mute", {}),
      early.client.request("toggle-hand", {}),
      early.client.request("send-message", { text: "let me in" }),
      early.client.request("get-messages", {}),
      early.client.request("lobby-admit", { all: true }),
      early.client.request("set-lobby", { enabled: false }),
    ];
    for (const r of await Promise.allSettled(refused)) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "forbidden" });
    }
    // Asking again is not a way in either.
    await expect(early.client.request("join-meeting", {})).rejects.toMatchObject({ code: "invalid_state" });
    expect(fx.host.rooms.get(meetingId)?.peers.size ?? 0).toBe(0);
    expect(await rowOf(ack.participant_id)).toMatchObject({ status: "lobby", role: "member" });

    // The host arrives later and still hears about them; admitting lets them join normally.
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    const request = await host.client.waitFor(
      "lobby-request",
      (d) => d.participant_id === ack.participant_id,
    );
    expect(request).toMatchObject({ name: ack.display_name, user_id: expect.any(String) });
    const joined = host.client.waitFor("participant-joined", (d) => d.participant_id === ack.participant_id);
    expect(await host.client.request("lobby-admit", { participant_id: ack.participant_id })).toEqual({
      participant_ids: [ack.participant_id],
    });
    await early.client.waitFor("lobby-admitted");
    await host.client.waitFor(
      "lobby-left",
      (d) => d.participant_id === ack.participant_id && d.reason === "admitted",
    );
    const member = early.participant();
    await member.joinMeeting();
    expect(member.joinAck.router_rtp_capabilities.codecs?.length).toBeGreaterThan(0);
    expect(member.joinAck.peers.map((p) => p.participant_id)).toEqual([host.id]);
    await joined;
    await member.createTransports();
    await member.produceAudio();
    await fx.host.recorder.flush();
    expect(await rowOf(member.id)).toMatchObject({ status: "joined" });
    member.close();
    host.close();
  });

  it("denies: the waiting member is told, disconnected, recorded as denied and counted as refused", async () => {
    const meetingId = await fx.createMeeting({ lobbyEnabled: true });
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    const waiting = await open(meetingId);
    const ack = await waiting.client.request("join-meeting", {});
    await host.client.waitFor("lobby-request", (d) => d.participant_id === ack.participant_id);
    const closed = new Promise<number>((resolve) => waiting.ws.once("close", (code) => resolve(code)));
    await host.client.request("lobby-deny", { participant_id: ack.participant_id });
    await waiting.client.waitFor("lobby-denied");
    expect(await closed).toBe(4003);
    expect(await rowOf(ack.participant_id)).toMatchObject({ status: "denied", leftAt: expect.any(Date) });
    await fx.host.services.records.flush();
    const [stats] = await fx.db.db.select().from(meetingStats).where(eq(meetingStats.meetingId, meetingId));
    expect(stats?.joinsRefused).toBe(1);
    await expect(
      host.client.request("lobby-admit", { participant_id: ack.participant_id }),
    ).rejects.toMatchObject({
      code: "not_found",
    });
    host.close();
  });

  it("cannot be skipped by reconnecting, reusing a token or resuming: a new connection waits again", async () => {
    const meetingId = await fx.createMeeting({ lobbyEnabled: true });
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    const token = await fx.token(meetingId);
    const first = await connect(`${fx.host.wsUrl}/?token=${token}`);
    const ack = await first.client.request("join-meeting", {});
    expect(ack.lobby).toBe(true);
    first.client.close();
    await host.client.waitFor(
      "lobby-left",
      (d) => d.participant_id === ack.participant_id && d.reason === "left",
    );
    await eventually("the row to say left", async () => (await rowOf(ack.participant_id))?.status === "left");

    await expect(connect(`${fx.host.wsUrl}/?token=${token}`)).rejects.toMatchObject({ status: 401 });
    await expect(connect(`${fx.host.wsUrl}/?resume=${ack.participant_id}`)).rejects.toMatchObject({
      status: 401,
    });
    await expect(connect(`${fx.host.wsUrl}/?resume=${host.joinAck.resume_token}x`)).rejects.toMatchObject({
      status: 401,
    });
    const again = await open(meetingId);
    expect(await again.client.request("join-meeting", {})).toMatchObject({ lobby: true });
    expect([...fx.host.rooms.get(meetingId)!.peers.keys()]).toEqual([host.id]);
    again.client.close();
    host.close();
  });

  it("lets hosts admit everyone at once, and switching the lobby off lets everyone in", async () => {
    const meetingId = await fx.createMeeting({ lobbyEnabled: true });
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    const a = await open(meetingId);
    const b = await open(meetingId);
    const c = await open(meetingId);
    const ids = [];
    for (const p of [a, b]) ids.push((await p.client.request("join-meeting", {})).participant_id);
    const admitted = await host.client.request("lobby-admit", { all: true });
    expect(admitted.participant_ids.sort()).toEqual(ids.sort());
    for (const p of [a, b]) await p.client.waitFor("lobby-admitted");

    const cAck = await c.client.request("join-meeting", {});
    const member = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`).catch(
      (e) => e,
    );
    expect(member).toBeInstanceOf(Error); // still held: the lobby is on

    const aPeer = a.participant();
    await aPeer.joinMeeting();
    expect(aPeer.joinAck.peers.map((p) => p.participant_id)).toEqual([host.id]);
    await expect(aPeer.client.request("set-lobby", { enabled: false })).rejects.toMatchObject({
      code: "forbidden",
    });

    const updated = aPeer.client.waitFor("meeting-updated", (d) => d.lobby_enabled === false);
    expect(await host.client.request("set-lobby", { enabled: false })).toEqual({ enabled: false });
    await updated;
    await c.client.waitFor("lobby-admitted");
    const cPeer = c.participant();
    await cPeer.joinMeeting();
    expect(cPeer.id).toBe(cAck.participant_id);
    const row = await fx.db.db.query.meetings.findFirst({ where: (m, { eq }) => eq(m.id, meetingId) });
    expect(row?.lobbyEnabled).toBe(false);
    const late = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    expect(late.joinAck.peers.length).toBe(3);
    expect(late.joinAck.lobby_enabled).toBe(false);
    for (const p of [late, cPeer, aPeer, host]) p.close();
    b.client.close();
  });

  it("sends hosts straight in even with the lobby on", async () => {
    const meetingId = await fx.createMeeting({ lobbyEnabled: true });
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    expect(host.joinAck.role).toBe("host");
    // The host's own answer carries the switches, so the page's lobby and lock buttons start right.
    expect(host.joinAck).toMatchObject({ lobby_enabled: true, locked: false });
    const rows = await fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
    expect(rows.every((r) => r.status !== "lobby")).toBe(true);
    host.close();
  });

  it("tells people waiting in the lobby when control ends the meeting, with or without a room here", async () => {
    const withHost = await fx.createMeeting({ lobbyEnabled: true });
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(withHost, { role: "host" })}`,
    );
    const noHostYet = await fx.createMeeting({ lobbyEnabled: true });
    const waiters = [await open(withHost), await open(noHostYet)];
    for (const w of waiters)
      expect(await w.client.request("join-meeting", {})).toMatchObject({ lobby: true });
    expect(fx.host.rooms.get(noHostYet)).toBeUndefined();
    const closed = waiters.map((w) => new Promise<number>((r) => w.ws.once("close", (code) => r(code))));

    const ended = (tenant_id: string, meeting_id: string) =>
      fx.bus.publish(BUS_CHANNELS.meetings, {
        type: "meeting-ended",
        tenant_id,
        meeting_id,
        reason: "ended",
      });
    // Another tenant's message about the same id leaves them waiting.
    await ended("tenant-someone-else", noHostYet);
    await expect(waiters[1]!.client.request("join-meeting", {})).rejects.toMatchObject({
      code: "invalid_state",
    });
    expect(waiters[1]!.client.received("meeting-ended")).toEqual([]);

    await ended(fx.tenantId, withHost);
    await ended(fx.tenantId, noHostYet);
    for (const w of waiters) expect(await w.client.waitFor("meeting-ended")).toEqual({ reason: "ended" });
    expect(await host.client.waitFor("meeting-ended")).toEqual({ reason: "ended" });
    expect(await Promise.all(closed)).toEqual([4000, 4000]);
    host.close();
  });
});

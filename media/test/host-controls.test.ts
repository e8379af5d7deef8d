import { BUS_CHANNELS, type MeetingBusMessage } from "@nexus/shared/bus";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

describe("host controls", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  let meetingId: string;
  let host: Participant;
  let member: Participant;
  let other: Participant;
  const busMessages: MeetingBusMessage[] = [];

  const join = async (role: "host" | "member" = "member") =>
    Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role })}`);
  const rowOf = (id: string) => fx.db.db.query.participants.findFirst({ where: (p, { eq }) => eq(p.id, id) });
  const meetingRow = () => fx.db.db.query.meetings.findFirst({ where: (m, { eq }) => eq(m.id, meetingId) });

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database });
    await fx.bus.subscribe(BUS_CHANNELS.meetings, (m) => {
      busMessages.push(m as MeetingBusMessage);
    });
    meetingId = await fx.createMeeting();
    host = await join("host");
    member = await join();
    other = await join();
    await member.createTransports();
    await member.produceAudio();
    await member.produceCamera();
  });
  afterAll(async () => {
    for (const p of [host, member, other]) p?.close();
    await fx?.close();
    await t?.drop();
  });

  it.each([
    ["mute-participant", () => ({ participant_id: other.id })],
    ["stop-video", () => ({ participant_id: other.id })],
    ["remove-participant", () => ({ participant_id: other.id })],
    ["lower-hand", () => ({ participant_id: other.id })],
    ["promote", () => ({ participant_id: other.id })],
    ["lock-meeting", () => ({ locked: true })],
    ["end-meeting", () => ({})],
    ["set-lobby", () => ({ enabled: true })],
    ["lobby-admit", () => ({ all: true })],
    ["lobby-deny", () => ({ all: true })],
  ] as const)("refuses %s from a member", async (type, data) => {
    await expect(member.client.request(type, data() as never)).rejects.toMatchObject({ code: "forbidden" });
  });

  it("leaves everything as it was after the members' attempts", async () => {
    expect(fx.host.rooms.get(meetingId)?.peers.size).toBe(3);
    expect(await meetingRow()).toMatchObject({ status: "active", locked: false, lobbyEnabled: false });
  });

  it("mutes a participant, who may unmute unless the host locked it", async () => {
    const mic = member.producers.get("mic")!;
    const paused = other.client.waitFor("producer-paused", (d) => d.producer_id === mic.id, {
      includePast: false,
    });
    const told = member.client.waitFor("moderated", (d) => d.action === "mute");
    await host.client.request("mute-participant", { participant_id: member.id });
    await paused;
    expect(await told).toEqual({ action: "mute", by: host.id, locked: false });
    await other.client.waitFor("participant-updated", (d) => d.participant_id === member.id && d.is_muted);
    expect(await member.client.request("toggle-mute", { muted: false })).toEqual({ muted: false });

    await host.client.request("mute-participant", { participant_id: member.id, lock: true });
    await other.client.waitFor("participant-updated", (d) => d.participant_id === member.id && d.mic_locked);
    await expect(member.client.request("toggle-mute", { muted: false })).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(member.client.request("resume-producer", { producer_id: mic.id })).rejects.toMatchObject({
      code: "forbidden",
    });
    expect(fx.host.rooms.get(meetingId)?.peers.get(member.id)?.producers.get(mic.id)?.producer.paused).toBe(
      true,
    );

    await host.client.request("mute-participant", { participant_id: member.id, lock: false });
    expect(await member.client.request("toggle-mute", { muted: false })).toEqual({ muted: false });
  });

  it("stops a participant's video", async () => {
    const camera = member.producers.get("camera")!;
    const paused = other.client.waitFor("producer-paused", (d) => d.producer_id === camera.id);
    await host.client.request("stop-video", { participant_id: member.id });
    await paused;
    await member.client.waitFor("moderated", (d) => d.action === "stop-video");
    await fx.host.recorder.flush();
    expect(await rowOf(member.id)).toMatchObject({ isVideoOn: false });
  });

  it("shows hands in raise order and lets a host lower one", async () => {
    const first = await other.client.request("toggle-hand", {});
    const second = await member.client.request("toggle-hand", { raised: true });
    expect(first.raised && second.raised).toBe(true);
    // Strictly later, even when both requests land in the same millisecond: the order must not tie.
    expect(Date.parse(first.hand_raised_at!)).toBeLessThan(Date.parse(second.hand_raised_at!));
    await host.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === member.id && !!d.hand_raised_at,
    );
    const late = await join();
    const hands = late.joinAck.peers
      .filter((p) => p.hand_raised_at !== null)
      .sort((a, b) => a.hand_raised_at!.localeCompare(b.hand_raised_at!))
      .map((p) => p.participant_id);
    expect(hands).toEqual([other.id, member.id]);
    await fx.host.recorder.flush();
    expect((await rowOf(other.id))?.handRaisedAt?.toISOString()).toBe(first.hand_raised_at);

    await host.client.request("lower-hand", { participant_id: other.id });
    await late.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === other.id && d.hand_raised_at === null,
    );
    expect(await member.client.request("toggle-hand", {})).toEqual({ raised: false, hand_raised_at: null });
    late.close();
  });

  it("promotes a member to co-host, who can then use host controls", async () => {
    expect(await host.client.request("promote", { participant_id: member.id })).toEqual({ role: "cohost" });
    await other.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === member.id && d.role === "cohost",
    );
    await member.client.request("lower-hand", { participant_id: other.id });
    await expect(
      member.client.request("mute-participant", { participant_id: host.id }),
    ).rejects.toMatchObject({
      code: "forbidden",
    });
    await fx.host.recorder.flush();
    expect(await rowOf(member.id)).toMatchObject({ role: "cohost" });
  });

  it("removes a participant: told, disconnected, gone for the others, recorded as removed", async () => {
    const left = host.client.waitFor("participant-left", (d) => d.participant_id === other.id);
    const closed = new Promise<number>((resolve) => other.ws.once("close", (code) => resolve(code)));
    await host.client.request("remove-participant", { participant_id: other.id });
    expect(await other.client.waitFor("removed")).toEqual({ by: host.id });
    expect(await closed).toBe(4003);
    expect(await left).toMatchObject({ reason: "removed" });
    expect(await rowOf(other.id)).toMatchObject({ status: "removed", leftAt: expect.any(Date) });
    // A token the removed user got before the removal (another tab) does not bring them back.
    const row = await rowOf(other.id);
    expect(row?.userId).toBeTruthy();
    const again = await connect(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { user_id: row!.userId })}`,
    );
    await expect(again.client.request("join-meeting", {})).rejects.toMatchObject({
      code: "forbidden",
      message: "a host removed you from this meeting",
    });
    again.client.close();
    const room = fx.host.rooms.get(meetingId);
    expect([...(room?.peers.values() ?? [])].map((p) => p.userId)).not.toContain(row!.userId);
  });

  it("locks the meeting: the row says so and a new member is refused", async () => {
    const told = member.client.waitFor("meeting-updated", (d) => d.locked === true);
    expect(await host.client.request("lock-meeting", { locked: true })).toEqual({ locked: true });
    await told;
    expect(await meetingRow()).toMatchObject({ locked: true });
    expect(busMessages).toContainEqual(
      expect.objectContaining({ type: "meeting-updated", changes: { locked: true } }),
    );
    const { client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    await expect(client.request("join-meeting", {})).rejects.toMatchObject({ code: "meeting_locked" });
    client.close();
  });

  it("ends the meeting for everyone, like the REST end", async () => {
    const ended = member.client.waitFor("meeting-ended");
    expect(await host.client.request("end-meeting", {})).toEqual({});
    expect(await ended).toEqual({ reason: "ended_by_host" });
    await host.client.waitFor("meeting-ended");
    expect(await meetingRow()).toMatchObject({ status: "ended", endedAt: expect.any(Date) });
    expect(busMessages).toContainEqual({
      type: "meeting-ended",
      tenant_id: fx.tenantId,
      meeting_id: meetingId,
      reason: "ended_by_host",
    });
    await eventually("the room to close", () => fx.host.rooms.get(meetingId) === undefined);
    const dump = await fx.host.pool.workers[0]!.dump();
    expect(dump.routerIds).toEqual([]);
  });
});

describe("hand raise order on a clock that does not move", () => {
  let t: TestDatabase;
  let fx: HostFixture;

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    // Every raise happens "in the same millisecond": the order must still be strict and the same for all.
    const frozen = new Date();
    fx = await startHostFixture({ db: t.database, now: () => frozen });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it("gives each raise in a room a later time than the one before", async () => {
    const meetingId = await fx.createMeeting();
    const people: Participant[] = [];
    try {
      for (let i = 0; i < 3; i++)
        people.push(await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`));
      const times: string[] = [];
      for (const p of people) times.push((await p.client.request("toggle-hand", {})).hand_raised_at!);
      expect(new Set(times).size).toBe(3);
      expect([...times].sort()).toEqual(times);
      // Lowered and raised again: later than every raise so far.
      await people[0]!.client.request("toggle-hand", { raised: false });
      const again = (await people[0]!.client.request("toggle-hand", { raised: true })).hand_raised_at!;
      expect(again > times[2]!).toBe(true);
      await fx.host.recorder.flush();
      const rows = await t.database.db.query.participants.findMany({
        where: (p, { eq }) => eq(p.meetingId, meetingId),
      });
      const stored = new Map(rows.map((r) => [r.id, r.handRaisedAt?.toISOString()]));
      expect(people.map((p) => stored.get(p.id))).toEqual([again, times[1], times[2]]);
    } finally {
      for (const p of people) p.close();
    }
  });
});

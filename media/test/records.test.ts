import { meetingStats, participants } from "@nexus/drizzle";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

describe("participants and meeting_stats after a scripted meeting", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  // The host's clock runs ahead of real time by whatever the script says has passed.
  let ahead = 0;
  const clock = () => new Date(Date.now() + ahead);

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database, now: clock, graceMs: 0 });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it("records who came, how long, what they did, and ends the meeting after its empty timeout", async () => {
    const meetingId = await fx.createMeeting({
      status: "scheduled",
      settings: {
        mute_on_join: false,
        video_off_on_join: false,
        allow_screen_share: true,
        allow_multiple_screen_shares: false,
        allow_chat: true,
        empty_timeout_seconds: 1,
      },
    });
    const token = async (role: "host" | "member" = "member") =>
      fx.token(meetingId, { role }, { now: clock() });
    const host = await Participant.join(`${fx.host.wsUrl}/?token=${await token("host")}`);
    const member = await Participant.join(`${fx.host.wsUrl}/?token=${await token()}`);
    const meeting = () => fx.db.db.query.meetings.findFirst({ where: (m, { eq }) => eq(m.id, meetingId) });
    await eventually("the meeting to become active", async () => (await meeting())?.status === "active");

    await member.createTransports();
    await member.produceScreen();
    await host.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === member.id && d.is_screen_sharing,
    );
    ahead += 30_000;
    await member.client.request("stop-screen-share", {});
    await member.client.request("toggle-hand", { raised: true });
    await member.client.request("send-message", { text: "thanks all" });
    await host.client.request("lock-meeting", { locked: true });
    const late = await connect(`${fx.host.wsUrl}/?token=${await token()}`);
    await expect(late.client.request("join-meeting", {})).rejects.toMatchObject({ code: "meeting_locked" });
    late.client.close();
    ahead += 30_000;

    member.close();
    await host.client.waitFor("participant-left", (d) => d.participant_id === member.id);
    host.close();
    await eventually(
      "the meeting to end after its empty timeout",
      async () => (await meeting())?.status === "ended",
    );
    await fx.host.recorder.flush();
    await fx.host.services.records.flush();

    const [stats] = await fx.db.db.select().from(meetingStats).where(eq(meetingStats.meetingId, meetingId));
    expect(stats).toMatchObject({
      peakParticipants: 2,
      totalJoins: 2,
      joinsRefused: 1,
      messagesCount: 1,
      screenShareSeconds: 30,
    });
    // Both were there for the 60 scripted seconds (plus the real milliseconds of the script).
    expect(stats!.participantSeconds).toBeGreaterThanOrEqual(120);
    expect(stats!.participantSeconds).toBeLessThan(130);

    const rows = await fx.db.db
      .select()
      .from(participants)
      .where(eq(participants.meetingId, meetingId))
      .orderBy(asc(participants.joinedAt));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(host.id)).toMatchObject({
      role: "host",
      status: "left",
      mediaHostId: fx.host.hostId,
      leftAt: expect.any(Date),
    });
    expect(byId.get(member.id)).toMatchObject({
      role: "member",
      status: "left",
      isScreenSharing: false,
      handRaisedAt: expect.any(Date),
      leftAt: expect.any(Date),
    });
    const ended = await meeting();
    expect(ended?.startedAt).toBeInstanceOf(Date);
    expect(ended?.endedAt).toBeInstanceOf(Date);
  });
});

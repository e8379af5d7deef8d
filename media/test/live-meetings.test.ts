import { meetings } from "@nexus/drizzle";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveMeetings } from "../src/meeting/live-meetings.js";
import type { MeetingSnapshot } from "../src/meeting/meeting-loader.js";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect } from "./support/participant.js";

/**
 * The join path reads the meeting row from memory while the room is live here (LiveMeetings). What a user
 * sees must not change: a lock, a lobby switched on, a meeting ended, by this host, by control over the bus,
 * or (bus message lost) straight in the database, still turn the next join away.
 */
describe("meeting row on the join path while the room is live", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  let ahead = 0;
  const clock = () => new Date(Date.now() + ahead);

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({
      db: t.database,
      now: clock,
      graceMs: 0,
      env: { MEDIA_MEETING_CACHE_MS: "5000" },
    });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  const join = async (meetingId: string, role: "host" | "member" = "member") => {
    const { client } = await connect(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role }, { now: clock() })}`,
    );
    return client;
  };
  const refusal = async (meetingId: string) => {
    const client = await join(meetingId);
    try {
      await client.request("join-meeting", {});
    } catch (error) {
      return (error as { code?: string }).code;
    } finally {
      client.close();
    }
    return "admitted";
  };
  const upgradeStatus = async (meetingId: string) =>
    connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId, {}, { now: clock() })}`).then(
      ({ client }) => {
        client.close();
        return 101;
      },
      (err: { status?: number }) => err.status,
    );
  const liveRoom = async () => {
    const meetingId = await fx.createMeeting();
    const host = await join(meetingId, "host");
    await host.request("join-meeting", {});
    // One member in and out warms the memory of the row.
    expect(await refusal(meetingId)).toBe("admitted");
    return { meetingId, host };
  };

  it("honours a lock published by control on the bus", async () => {
    const { meetingId, host } = await liveRoom();
    await fx.db.db.update(meetings).set({ locked: true }).where(eq(meetings.id, meetingId));
    await fx.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-updated",
      tenant_id: fx.tenantId,
      meeting_id: meetingId,
      changes: { locked: true },
    });
    expect(await refusal(meetingId)).toBe("meeting_locked");
    host.close();
  });

  it("honours a lobby switched on by control: the next member waits", async () => {
    const { meetingId, host } = await liveRoom();
    await fx.db.db.update(meetings).set({ lobbyEnabled: true }).where(eq(meetings.id, meetingId));
    await fx.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-updated",
      tenant_id: fx.tenantId,
      meeting_id: meetingId,
      changes: { lobby_enabled: true },
    });
    const member = await join(meetingId);
    expect(await member.request("join-meeting", {})).toMatchObject({ lobby: true });
    member.close();
    host.close();
  });

  it("honours this host's own lock and unlock at once", async () => {
    const { meetingId, host } = await liveRoom();
    await host.request("lock-meeting", { locked: true });
    expect(await refusal(meetingId)).toBe("meeting_locked");
    await host.request("lock-meeting", { locked: false });
    expect(await refusal(meetingId)).toBe("admitted");
    host.close();
  });

  it("refuses the upgrade once control has ended the meeting", async () => {
    const { meetingId } = await liveRoom();
    await fx.db.db.update(meetings).set({ status: "ended" }).where(eq(meetings.id, meetingId));
    await fx.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-ended",
      tenant_id: fx.tenantId,
      meeting_id: meetingId,
      reason: "ended_by_host",
    });
    expect(await upgradeStatus(meetingId)).toBe(409);
  });

  it("reads the row again after MEDIA_MEETING_CACHE_MS when a bus message was lost", async () => {
    const { meetingId, host } = await liveRoom();
    // Locked in the database, no bus message: within the window the remembered row still admits...
    await fx.db.db.update(meetings).set({ locked: true }).where(eq(meetings.id, meetingId));
    expect(await refusal(meetingId)).toBe("admitted");
    // ...and once it is older than the window, the next join reads the lock.
    ahead += 5_001;
    expect(await refusal(meetingId)).toBe("meeting_locked");
    host.close();
  });
});

describe("LiveMeetings", () => {
  const row = (locked: boolean): MeetingSnapshot => ({
    id: "m1",
    tenantId: "t1",
    status: "active",
    lobbyEnabled: false,
    locked,
    maxParticipants: 10,
    settings: {
      allow_screen_share: true,
      allow_multiple_screen_shares: false,
      allow_chat: true,
      mute_on_join: false,
      video_off_on_join: false,
    },
  });

  it("shares one read among concurrent joins and keeps a change that lands while it is in flight", async () => {
    let reads = 0;
    let release: (r: MeetingSnapshot) => void = () => {};
    const live = new LiveMeetings({
      load: () => {
        reads++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
      isLive: () => true,
      maxAgeMs: 60_000,
      now: () => 0,
    });
    const first = Promise.all([live.get("t1", "m1"), live.get("t1", "m1")]);
    expect(reads).toBe(1);
    // The lock arrives while the read (which saw the row unlocked) is still running.
    live.changed("t1", "m1", { locked: true });
    release(row(false));
    await first;
    // The stale read was not kept: the next join reads again and sees what the database now says.
    const next = live.get("t1", "m1");
    expect(reads).toBe(2);
    release(row(true));
    expect((await next)?.locked).toBe(true);
    expect((await live.get("t1", "m1"))?.locked).toBe(true);
    expect(reads).toBe(2);
  });

  it("never serves another tenant's meeting from memory, nor a meeting whose room is not live", async () => {
    let reads = 0;
    let liveNow = true;
    const live = new LiveMeetings({
      load: async (tenantId) => {
        reads++;
        return tenantId === "t1" ? row(false) : null;
      },
      isLive: () => liveNow,
      maxAgeMs: 60_000,
      now: () => 0,
    });
    await live.get("t1", "m1");
    expect(await live.get("t2", "m1")).toBeNull();
    expect(reads).toBe(2);
    liveNow = false;
    await live.get("t1", "m1");
    expect(reads).toBe(3);
  });
});

import { createDb, meetingStats, meetings, participants } from "@nexus/drizzle";
import type { Bus } from "@nexus/platform";
import { silentLogger } from "@nexus/platform";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParticipantRecorder } from "../src/meeting/participant-log.js";
import { MeetingRecords } from "../src/meeting/records.js";
import type { Peer } from "../src/sfu/peer.js";
import type { Room } from "../src/sfu/room.js";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";

/** An hour: a window no test outlives, so anything written meanwhile was written because it was cut short. */
const FOREVER_MS = 3_600_000;

/** A logger whose error lines are kept, so a test can say that nothing failed. */
const capture = () => {
  const errors: unknown[] = [];
  const logger = silentLogger();
  logger.error = ((obj: unknown) => {
    errors.push(obj);
  }) as typeof logger.error;
  return { errors, logger };
};
/** The parts of a room and a peer the recorder reads. */
const fakeRoom = (id: string, tenantId: string, size: number) =>
  ({ id, meeting: { id, tenantId }, peers: { size } }) as unknown as Room;
const peer = (id: string) =>
  ({
    id,
    userId: `u-${id.slice(0, 4)}`,
    displayName: `P ${id.slice(0, 4)}`,
    role: "member",
    state: { is_muted: true, is_video_on: false, is_screen_sharing: false },
  }) as unknown as Peer;

/**
 * The recorder's batch statements and group-commit window, driven directly (no sockets): what lands in
 * participants, meeting_stats and meetings after bursts that span meetings, and when it lands.
 */
describe("participant and stats writes batched behind a group-commit window", () => {
  let t: TestDatabase;
  let fx: HostFixture;

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database, graceMs: 0 });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  const room = (id: string, size: number) => fakeRoom(id, fx.tenantId, size);
  const rowsOf = (meetingId: string) =>
    fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
  const statsOf = async (meetingId: string) =>
    (await fx.db.db.select().from(meetingStats).where(eq(meetingStats.meetingId, meetingId)))[0];
  const meetingRow = async (meetingId: string) =>
    (await fx.db.db.select().from(meetings).where(eq(meetings.id, meetingId)))[0];

  it("writes a burst of joins and leaves across two meetings, with stats and the scheduled -> active update", async () => {
    const scheduled = await fx.createMeeting({ status: "scheduled" });
    const active = await fx.createMeeting({ status: "active", mediaHostId: "elsewhere" });
    const { errors, logger } = capture();
    const recorder = new ParticipantRecorder(fx.db.db, "host-batch", logger, () => new Date(), {
      batchMs: 20,
    });
    const a = Array.from({ length: 3 }, () => crypto.randomUUID());
    const b = Array.from({ length: 2 }, () => crypto.randomUUID());
    // Interleaved, as a burst on two meetings arrives; the first of each meeting is its first peer.
    recorder.joined(room(scheduled, 1), peer(a[0]!), true);
    recorder.joined(room(active, 1), peer(b[0]!), true);
    recorder.joined(room(scheduled, 2), peer(a[1]!), false);
    recorder.joined(room(active, 2), peer(b[1]!), false);
    recorder.joined(room(scheduled, 3), peer(a[2]!), false);
    await recorder.flush();
    expect(errors).toEqual([]);
    expect(recorder.queued).toBe(0);

    const rowsA = await rowsOf(scheduled);
    expect(rowsA.map((r) => r.id).sort()).toEqual([...a].sort());
    expect((await rowsOf(active)).map((r) => r.id).sort()).toEqual([...b].sort());
    for (const r of [...rowsA, ...(await rowsOf(active))]) {
      expect(r).toMatchObject({
        status: "joined",
        mediaHostId: "host-batch",
        isMuted: true,
        isVideoOn: false,
        role: "member",
        leftAt: null,
      });
      expect(r.displayName).toBe(`P ${r.id.slice(0, 4)}`);
    }
    expect(await statsOf(scheduled)).toMatchObject({ totalJoins: 3, peakParticipants: 3 });
    expect(await statsOf(active)).toMatchObject({ totalJoins: 2, peakParticipants: 2 });
    // The scheduled meeting became active, claimed by this host; the already active one was left alone.
    const started = await meetingRow(scheduled);
    expect(started).toMatchObject({ status: "active", mediaHostId: "host-batch" });
    expect(started?.startedAt).toBeInstanceOf(Date);
    expect(await meetingRow(active)).toMatchObject({ status: "active", mediaHostId: "elsewhere" });

    // A later, smaller batch: the peak stays the greatest seen, the joins add up.
    const late = crypto.randomUUID();
    recorder.joined(room(active, 1), peer(late), false);
    await recorder.flush();
    expect(await statsOf(active)).toMatchObject({ totalJoins: 3, peakParticipants: 2 });

    // Everyone leaves in one batch, one of them twice (the first leave counts); a rejoin after it in the
    // same burst makes that participant's row joined again, in queue order.
    for (const id of a) recorder.left(room(scheduled, 0), peer(id));
    for (const id of [...b, late]) recorder.left(room(active, 0), peer(id));
    recorder.left(room(scheduled, 0), peer(a[0]!));
    recorder.joined(room(scheduled, 1), peer(a[1]!), false);
    await recorder.flush();
    expect(errors).toEqual([]);
    const afterA = await rowsOf(scheduled);
    const back = afterA.find((r) => r.id === a[1]);
    expect(back).toMatchObject({ status: "joined", leftAt: null });
    for (const r of afterA.filter((r) => r.id !== a[1])) {
      expect(r.status).toBe("left");
      expect(r.leftAt!.getTime()).toBeGreaterThanOrEqual(r.joinedAt.getTime());
    }
    expect((await rowsOf(active)).every((r) => r.status === "left" && r.leftAt instanceof Date)).toBe(true);
    expect(await statsOf(scheduled)).toMatchObject({ totalJoins: 4, peakParticipants: 3 });
  });

  it("writes the other rows of a windowed batch when one cannot be written", async () => {
    const meetingId = await fx.createMeeting({ status: "scheduled" });
    const other = await fx.createMeeting();
    const { errors, logger } = capture();
    const recorder = new ParticipantRecorder(fx.db.db, "host-batch", logger, () => new Date(), {
      batchMs: 20,
    });
    const good = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    recorder.joined(room(meetingId, 1), peer(good[0]!), true);
    // A meeting that does not exist: the foreign keys refuse this row, and with it the batch's statement.
    recorder.joined(room(crypto.randomUUID(), 1), peer(crypto.randomUUID()), true);
    recorder.joined(room(meetingId, 2), peer(good[1]!), false);
    recorder.joined(room(other, 1), peer(good[2]!), false);
    await recorder.flush();
    expect(recorder.queued).toBe(0);
    expect(errors).toHaveLength(1);
    expect((await rowsOf(meetingId)).map((r) => r.id).sort()).toEqual([good[0], good[1]].sort());
    expect((await rowsOf(other)).map((r) => r.id)).toEqual([good[2]]);
    // Row by row, each join still brought its stats and the meeting's start.
    expect(await statsOf(meetingId)).toMatchObject({ totalJoins: 2, peakParticipants: 2 });
    expect(await statsOf(other)).toMatchObject({ totalJoins: 1, peakParticipants: 1 });
    expect((await meetingRow(meetingId))?.status).toBe("active");
  });

  it("holds writes for the window, but flush() and a reader waiting for a row do not wait for it", async () => {
    const meetingId = await fx.createMeeting();
    const { errors, logger } = capture();
    const recorder = new ParticipantRecorder(fx.db.db, "host-batch", logger, () => new Date(), {
      batchMs: FOREVER_MS,
    });
    const first = crypto.randomUUID();
    recorder.joined(room(meetingId, 1), peer(first), false);
    // The window holds it: a round trip to the database later, nothing is written.
    await fx.db.db.select().from(meetings).where(eq(meetings.id, meetingId));
    expect(await rowsOf(meetingId)).toEqual([]);
    expect(recorder.queued).toBe(1);
    // What a chat message waits for: its sender's row, written now, not after the window.
    await recorder.rowWritten(first);
    expect((await rowsOf(meetingId)).map((r) => r.id)).toEqual([first]);

    const second = crypto.randomUUID();
    recorder.joined(room(meetingId, 2), peer(second), false);
    recorder.left(room(meetingId, 1), peer(first));
    await recorder.flush();
    expect(recorder.queued).toBe(0);
    const rows = await rowsOf(meetingId);
    expect(rows.find((r) => r.id === first)?.status).toBe("left");
    expect(rows.find((r) => r.id === second)?.status).toBe("joined");
    expect(errors).toEqual([]);
    // Nothing queued: the timer of a window (unref'd) is not running, and flush() returns at once.
    await recorder.flush();
    recorder.close();
  });

  it("MeetingRecords sums counters of several meetings into one write, and flush() does not wait for the window", async () => {
    const m1 = await fx.createMeeting();
    const m2 = await fx.createMeeting();
    const { errors, logger } = capture();
    const records = new MeetingRecords({
      db: fx.db.db,
      bus: {} as Bus,
      logger,
      now: () => new Date(),
      isLive: () => true,
      batchMs: FOREVER_MS,
    });
    records.refused(fx.tenantId, m1);
    records.refused(fx.tenantId, m2);
    records.refused(fx.tenantId, m1);
    // A meeting that does not exist in the same batch: the statement fails, the others are written one by one.
    records.refused(fx.tenantId, crypto.randomUUID());
    await fx.db.db.select().from(meetings).where(eq(meetings.id, m1));
    expect(
      await fx.db.db
        .select()
        .from(meetingStats)
        .where(inArray(meetingStats.meetingId, [m1, m2])),
    ).toEqual([]);
    await records.flush();
    expect(await statsOf(m1)).toMatchObject({ joinsRefused: 2, participantSeconds: 0 });
    expect(await statsOf(m2)).toMatchObject({ joinsRefused: 1 });
    expect(errors).toHaveLength(1);
    records.refused(fx.tenantId, m2);
    records.close();
    await records.flush();
    expect(await statsOf(m2)).toMatchObject({ joinsRefused: 2 });
  });
});

/**
 * The same prepared batch statements on PGlite, the embedded default (`npm start` with no DATABASE_URL):
 * they go through drizzle's session and dialect, which each driver implements on its own.
 */
describe("batched writes on PGlite", () => {
  it("writes joins, leaves, stats and the meeting start, and the counters, with no error", async () => {
    const database = createDb("memory://");
    await database.migrate();
    try {
      const { errors, logger } = capture();
      const tenantId = "t-pglite";
      const meetingId = crypto.randomUUID();
      await database.db.insert(meetings).values({
        id: meetingId,
        tenantId,
        title: "Embedded",
        createdBy: "u-1",
        status: "scheduled",
        settings: { ...DEFAULT_MEETING_SETTINGS },
      });
      const room = fakeRoom(meetingId, tenantId, 2);
      const [a, b] = [peer(crypto.randomUUID()), peer(crypto.randomUUID())];
      const recorder = new ParticipantRecorder(database.db, "host-pglite", logger, () => new Date(), {
        batchMs: 5,
      });
      recorder.joined(room, a, true);
      recorder.joined(room, b, false);
      recorder.left(room, a);
      await recorder.flush();
      const records = new MeetingRecords({
        db: database.db,
        bus: {} as Bus,
        logger,
        now: () => new Date(),
        isLive: () => true,
        batchMs: 5,
      });
      records.refused(tenantId, meetingId);
      records.refused(tenantId, meetingId);
      await records.flush();

      const rows = await database.db.select().from(participants).where(eq(participants.meetingId, meetingId));
      expect(new Map(rows.map((r) => [r.id, r.status]))).toEqual(
        new Map([
          [a.id, "left"],
          [b.id, "joined"],
        ]),
      );
      const [stats] = await database.db
        .select()
        .from(meetingStats)
        .where(eq(meetingStats.meetingId, meetingId));
      expect(stats).toMatchObject({ totalJoins: 2, peakParticipants: 2, joinsRefused: 2 });
      const [meeting] = await database.db.select().from(meetings).where(eq(meetings.id, meetingId));
      expect(meeting).toMatchObject({ status: "active", mediaHostId: "host-pglite" });
      expect(errors).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

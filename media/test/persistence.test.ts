import { chatMessages, createDb, meetingStats, meetings, participants } from "@nexus/drizzle";
import { silentLogger } from "@nexus/platform";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParticipantRecorder } from "../src/meeting/participant-log.js";
import type { Peer } from "../src/sfu/peer.js";
import type { Room } from "../src/sfu/room.js";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect } from "./support/participant.js";

/** Participant rows are written behind the join path, in batches: every row a user was told about still lands. */
describe("participant rows written in batches", () => {
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

  it("records every one of 20 simultaneous joins and their leaves, and the meeting's stats", async () => {
    const meetingId = await fx.createMeeting({ status: "scheduled", maxParticipants: 50 });
    const clients = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const { client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
        const ack = (await client.request("join-meeting", {})) as { participant_id: string };
        return { client, id: ack.participant_id };
      }),
    );
    await fx.host.recorder.flush();
    const rows = await fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
    expect(rows.map((r) => r.id).sort()).toEqual(clients.map((c) => c.id).sort());
    expect(rows.every((r) => r.status === "joined" && r.mediaHostId === fx.host.hostId)).toBe(true);
    const [stats] = await fx.db.db.select().from(meetingStats).where(eq(meetingStats.meetingId, meetingId));
    expect(stats).toMatchObject({ totalJoins: 20, peakParticipants: 20 });
    const [meeting] = await fx.db.db.select().from(meetings).where(eq(meetings.id, meetingId));
    expect(meeting?.status).toBe("active");

    for (const c of clients) c.client.close();
    // Leaving is seen by the host when each socket closes; the rows follow once it has recorded them all.
    const deadline = Date.now() + 15_000;
    while (fx.host.rooms.get(meetingId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await fx.host.recorder.flush();
    const after = await fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
    expect(after).toHaveLength(20);
    for (const row of after) {
      expect(row.status).toBe("left");
      expect(row.leftAt).toBeInstanceOf(Date);
      expect(row.leftAt!.getTime()).toBeGreaterThanOrEqual(row.joinedAt.getTime());
    }
  });

  it("stores a chat message sent right after joining, though the sender's row is still queued", async () => {
    const meetingId = await fx.createMeeting();
    // Every participant insert is held (a SHARE lock on the table, in a transaction of our own), as a busy
    // database would hold it; the sender's row stays in the recorder's queue meanwhile.
    const locker = createDb(t.url);
    const { client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    try {
      let participantId = "";
      const sent = await locker.db.transaction(async (tx) => {
        await tx.execute(sql`lock table participants in share mode`);
        const ack = (await client.request("join-meeting", {})) as { participant_id: string };
        participantId = ack.participant_id;
        await eventually("the recorder's insert waits for the lock", async () => {
          const waiting = await tx.execute(
            // pg_locks, not pg_stat_activity's query text: a prepared statement waits for its lock while
            // being parsed, before the activity view shows its text.
            sql`select 1 from pg_locks where not granted and relation = 'participants'::regclass`,
          );
          return (waiting as { rows: unknown[] }).rows.length === 1;
        });
        const pending = client.request("send-message", { text: "first words" });
        pending.catch(() => {});
        // Another round trip through the host and the database: by its answer a chat insert that did not
        // wait for the row would have been refused (sender foreign key).
        await client.request("get-messages", { limit: 5 });
        // Wrapped: returning the promise itself would make the transaction wait for it, and so for itself.
        return { pending };
      });
      const message = (await sent.pending) as { sender: { participant_id: string } };
      expect(message.sender.participant_id).toBe(participantId);
      const rows = await fx.db.db.select().from(chatMessages).where(eq(chatMessages.meetingId, meetingId));
      expect(rows.map((r) => [r.content, r.senderParticipantId])).toEqual([["first words", participantId]]);
    } finally {
      client.close();
      await locker.close();
    }
  });

  it("still writes the good rows of a batch when one row cannot be written", async () => {
    const meetingId = await fx.createMeeting();
    // Batched statements that fail fall back to row by row, which would hide a broken batch: count the errors.
    const errors: unknown[] = [];
    const logger = silentLogger();
    logger.error = ((obj: unknown) => {
      errors.push(obj);
    }) as typeof logger.error;
    const recorder = new ParticipantRecorder(fx.db.db, "host-x", logger);
    const room = (id: string) =>
      ({ meeting: { id, tenantId: fx.tenantId }, peers: { size: 1 } }) as unknown as Room;
    const peer = (id: string) =>
      ({
        id,
        userId: `u-${id.slice(0, 4)}`,
        displayName: "P",
        role: "member",
        state: { is_muted: false, is_video_on: true, is_screen_sharing: false },
      }) as unknown as Peer;
    // A clean batch of two first: one statement, no error.
    const clean = [crypto.randomUUID(), crypto.randomUUID()];
    for (const id of clean) recorder.joined(room(meetingId), peer(id), false);
    await recorder.flush();
    expect(errors).toHaveLength(0);
    const good: string[] = [crypto.randomUUID(), crypto.randomUUID()];
    recorder.joined(room(meetingId), peer(good[0]!), false);
    // A meeting that does not exist: the foreign key refuses this row, and with it the batch's statement.
    recorder.joined(room(crypto.randomUUID()), peer(crypto.randomUUID()), false);
    recorder.joined(room(meetingId), peer(good[1]!), false);
    await recorder.flush();
    expect(recorder.queued).toBe(0);
    const rows = await fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
    expect(rows.map((r) => r.id).sort()).toEqual([...clean, ...good].sort());
    expect(rows.every((r) => r.status === "joined" && r.mediaHostId === "host-x" && r.isVideoOn)).toBe(true);
    expect(errors).toHaveLength(1);

    // Both leave in one batch (one multi-row update), with no error this time.
    recorder.left(room(meetingId), peer(good[0]!));
    recorder.left(room(meetingId), peer(good[1]!));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    const left = await fx.db.db.select().from(participants).where(eq(participants.meetingId, meetingId));
    expect(
      left
        .filter((r) => r.status === "left")
        .map((r) => r.id)
        .sort(),
    ).toEqual([...good].sort());
    expect(left.filter((r) => good.includes(r.id)).every((r) => r.leftAt instanceof Date)).toBe(true);
  });
});

import { chatMessages, meetingStats, participants } from "@nexus/drizzle";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import type { SignalingClient } from "@nexus/shared/signaling/client";
import type { ChatMessageWire } from "@nexus/shared/signaling/meeting";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { asc, eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

/** Every new-message a client has heard, in arrival order. */
const heard = (client: SignalingClient): ChatMessageWire[] => client.received("new-message");

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPgUrl() });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("chat", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  let meetingId: string;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant;

  const join = async (id = meetingId) => Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(id)}`);
  const rows = () =>
    fx.db.db
      .select()
      .from(chatMessages)
      .where(eq(chatMessages.meetingId, meetingId))
      .orderBy(asc(chatMessages.seq));

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database });
    meetingId = await fx.createMeeting();
    alice = await join();
    bob = await join();
    carol = await join();
  });
  afterAll(async () => {
    for (const p of [alice, bob, carol]) p?.close();
    await fx?.close();
    await t?.drop();
  });

  it("stores every message before acknowledging it and delivers them to everyone in the table's seq order", async () => {
    const sends = [alice, bob, carol].flatMap((p, who) =>
      [0, 1, 2, 3].map((n) => p.client.request("send-message", { text: `message ${n} from ${who}` })),
    );
    const acks = await Promise.all(sends);
    const stored = await rows();
    expect(stored).toHaveLength(12);
    // An ack is only sent once its row exists: every acked id is in the table with the acked seq.
    for (const ack of acks) expect(stored.find((r) => r.id === ack.id)?.seq).toBe(ack.seq);
    for (const p of [alice, bob, carol]) {
      await eventually("all 12 messages", () => heard(p.client).length === 12);
      expect(heard(p.client).map((m) => m.id)).toEqual(stored.map((r) => r.id));
    }
    const first = heard(bob.client)[0]!;
    const row = stored[0]!;
    expect(first).toEqual({
      id: row.id,
      seq: row.seq,
      sender: {
        participant_id: row.senderParticipantId,
        user_id: row.senderUserId,
        name: row.senderName,
        role: "member",
      },
      text: row.content,
      reply_to: null,
      to: null,
      created_at: row.createdAt.toISOString(),
    });
    const [stats] = await fx.db.db.select().from(meetingStats).where(eq(meetingStats.meetingId, meetingId));
    expect(stats?.messagesCount).toBe(12);
  });

  it("pages back through the history, oldest first within a page", async () => {
    const all = (await rows()).map((r) => r.id);
    const newest = await bob.client.request("get-messages", { limit: 5 });
    expect(newest.has_more).toBe(true);
    expect(newest.messages.map((m) => m.id)).toEqual(all.slice(-5));
    const collected = [...newest.messages];
    let page = newest;
    while (page.has_more) {
      page = await bob.client.request("get-messages", { limit: 5, before: collected[0]!.seq });
      collected.unshift(...page.messages);
    }
    expect(collected.map((m) => m.id)).toEqual(all);
  });

  it("keeps a reply's reference and refuses a message over the size limit", async () => {
    const [target] = await rows();
    const reply = await carol.client.request("send-message", { text: "agreed", reply_to: target!.id });
    expect(reply.reply_to).toBe(target!.id);
    await expect(carol.client.request("send-message", { text: "x".repeat(4001) })).rejects.toMatchObject({
      code: "validation_failed",
    });
    await expect(carol.client.request("send-message", { text: "   " })).rejects.toMatchObject({
      code: "validation_failed",
    });
  });

  it("delivers a direct message to its sender and recipient only, and shows it only to them", async () => {
    const dm = await alice.client.request("send-message", { text: "psst, bob", to: bob.id });
    expect(dm.to).toBe(bob.id);
    const after = await carol.client.request("send-message", { text: "public again" });
    // Carol's socket is ordered: her own later broadcast arriving proves the direct message never came.
    await eventually("carol hears her own message", () => heard(carol.client).some((m) => m.id === after.id));
    expect(heard(carol.client).some((m) => m.id === dm.id)).toBe(false);
    await eventually("bob hears the direct message", () => heard(bob.client).some((m) => m.id === dm.id));
    expect(heard(alice.client).some((m) => m.id === dm.id)).toBe(true);

    const historyOf = async (p: Participant) =>
      (await p.client.request("get-messages", { limit: 100 })).messages.map((m) => m.id);
    expect(await historyOf(bob)).toContain(dm.id);
    expect(await historyOf(alice)).toContain(dm.id);
    expect(await historyOf(carol)).not.toContain(dm.id);
    await expect(
      alice.client.request("send-message", { text: "hi", to: "not-in-this-meeting" }),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("refuses a participant who floods the chat, and stores only what it acknowledged", async () => {
    const before = (await rows()).length;
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, n) => bob.client.request("send-message", { text: `flood ${n}` })),
    );
    const accepted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "rate_limited" });
    expect((await rows()).length).toBe(before + accepted.length);
  });

  it("stores a burst in batches, and a message the database refuses does not sink the others", async () => {
    const dave = await join();
    // Bob spent his chat allowance in the flood above.
    const erin = await join();
    try {
      // Dave's participant row is gone, so the database refuses his messages (sender foreign key).
      await fx.host.recorder.flush();
      await fx.db.db.delete(participants).where(eq(participants.id, dave.id));
      const before = heard(carol.client).length;
      const results = await Promise.allSettled([
        ...[0, 1, 2].map((n) => alice.client.request("send-message", { text: `batch a${n}` })),
        dave.client.request("send-message", { text: "refused" }),
        ...[0, 1, 2].map((n) => erin.client.request("send-message", { text: `batch b${n}` })),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        "fulfilled",
        "fulfilled",
        "fulfilled",
        "rejected",
        "fulfilled",
        "fulfilled",
        "fulfilled",
      ]);
      expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: "unavailable" });
      await eventually("carol hears the six", () => heard(carol.client).length === before + 6);
      const got = heard(carol.client).slice(before);
      expect(got.map((m) => m.text).sort()).toEqual([
        "batch a0",
        "batch a1",
        "batch a2",
        "batch b0",
        "batch b1",
        "batch b2",
      ]);
      expect(got.map((m) => m.seq)).toEqual([...got.map((m) => m.seq)].sort((x, y) => x - y));
      expect((await rows()).some((r) => r.content === "refused")).toBe(false);
    } finally {
      dave.close();
      erin.close();
    }
  });

  it("answers unavailable and broadcasts nothing while the database is unreachable", async () => {
    const name = new URL(t.url).pathname.slice(1);
    await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    try {
      await expect(carol.client.request("send-message", { text: "lost?" })).rejects.toMatchObject({
        code: "unavailable",
      });
    } finally {
      await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    }
    const next = await eventually("the database to answer again", () =>
      carol.client.request("send-message", { text: "back" }).catch(() => undefined),
    );
    await eventually("alice hears the next message", () => heard(alice.client).some((m) => m.id === next.id));
    expect(heard(alice.client).some((m) => m.text === "lost?")).toBe(false);
    expect((await rows()).some((r) => r.content === "lost?")).toBe(false);
  });

  it("refuses chat in a meeting that disabled it", async () => {
    const quiet = await fx.createMeeting({
      settings: { ...DEFAULT_MEETING_SETTINGS, allow_chat: false },
    });
    const dave = await join(quiet);
    try {
      await expect(dave.client.request("send-message", { text: "hello?" })).rejects.toMatchObject({
        code: "forbidden",
      });
    } finally {
      dave.close();
    }
  });
});

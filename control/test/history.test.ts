import type { Database } from "@nexus/drizzle";
import { chatMessages, meetingStats, participants, recordings } from "@nexus/drizzle";
import { describe, expect, it } from "vitest";
import { appPerSuite, BACKENDS, call, freshTenant, type TestApp, userToken } from "./harness.js";

describe.each(BACKENDS)("meeting history on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, (app, db) => {
    t = app;
    database = db;
  });

  const as = (tenant: string, sub: string, role = "host") => userToken({ tenant, sub, role, clock: t.clock });
  async function setup() {
    const tenant = freshTenant();
    const alice = await as(tenant, "alice");
    const id = (await call(t, "POST", "/api/meetings", { token: alice, body: { title: "h" } })).body
      .id as string;
    return { tenant, alice, id };
  }

  describe("participants", () => {
    it("lists live and past participants in join order across pages", async () => {
      const { tenant, alice, id } = await setup();
      const base = Date.parse("2030-01-01T09:00:00.000Z");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const pid = crypto.randomUUID();
        ids.push(pid);
        await database.db.insert(participants).values({
          id: pid,
          tenantId: tenant,
          meetingId: id,
          userId: `u${i}`,
          displayName: `User ${i}`,
          role: i === 0 ? "host" : "member",
          status: i < 3 ? "joined" : "left",
          // Sub-millisecond differences as the media host writes them; two share a millisecond.
          joinedAt: new Date(base + Math.floor(i / 2)),
          leftAt: i < 3 ? null : new Date(base + 60_000),
        });
      }
      const seen: { id: string; status: string; left_at: string | null }[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 5; page++) {
        const q: string = cursor ? `&cursor=${cursor}` : "";
        const res = await call(t, "GET", `/api/meetings/${id}/participants?limit=2${q}`, { token: alice });
        expect(res.status).toBe(200);
        seen.push(...res.body.data);
        cursor = res.body.next_cursor;
        if (!cursor) break;
      }
      expect(seen.map((p) => p.id).sort()).toEqual([...ids].sort());
      expect(seen.filter((p) => p.status === "left").every((p) => p.left_at !== null)).toBe(true);
      const order = seen.map((p) => `${(p as unknown as { joined_at: string }).joined_at}|${p.id}`);
      expect([...order].sort()).toEqual(order);
      const u0 = seen.find((p) => p.id === ids[0]);
      expect(u0).toMatchObject({
        meeting_id: id,
        user_id: "u0",
        display_name: "User 0",
        role: "host",
        left_at: null,
      });
      const joined = await call(t, "GET", `/api/meetings/${id}/participants?status=joined`, { token: alice });
      expect(joined.body.data).toHaveLength(3);
    });

    it("rejects a bad limit and a forged cursor", async () => {
      const { alice, id } = await setup();
      const big = await call(t, "GET", `/api/meetings/${id}/participants?limit=1000`, { token: alice });
      expect(big.status).toBe(400);
      expect(big.body.error.fields[0].path).toBe("limit");
      const forged = await call(t, "GET", `/api/meetings/${id}/participants?cursor=abc`, { token: alice });
      expect(forged.status).toBe(400);
      expect(forged.body.error.fields).toEqual([{ path: "cursor", message: "invalid cursor" }]);
    });
  });

  describe("stats", () => {
    it("answers zeros before anything happened", async () => {
      const { alice, id } = await setup();
      const res = await call(t, "GET", `/api/meetings/${id}/stats`, { token: alice });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        meeting_id: id,
        peak_participants: 0,
        total_joins: 0,
        joins_refused: 0,
        participant_seconds: 0,
        messages_count: 0,
        screen_share_seconds: 0,
        duration_seconds: 0,
        current_participants: 0,
        updated_at: null,
      });
    });

    it("reports the stored row and the duration of a live and an ended meeting", async () => {
      const { tenant, alice, id } = await setup();
      await database.db.insert(meetingStats).values({
        meetingId: id,
        tenantId: tenant,
        peakParticipants: 7,
        totalJoins: 12,
        participantSeconds: 3600,
        messagesCount: 42,
      });
      await call(t, "POST", `/api/meetings/${id}/start`, { token: alice });
      t.clock.advance(125_000);
      const live = await call(t, "GET", `/api/meetings/${id}/stats`, { token: alice });
      expect(live.body).toMatchObject({
        peak_participants: 7,
        total_joins: 12,
        messages_count: 42,
        duration_seconds: 125,
      });
      await call(t, "POST", `/api/meetings/${id}/end`, { token: alice });
      t.clock.advance(1_000_000);
      const ended = await call(t, "GET", `/api/meetings/${id}/stats`, { token: alice });
      expect(ended.body.duration_seconds).toBe(125);
    });
  });

  describe("messages", () => {
    async function chat() {
      const { tenant, alice, id } = await setup();
      const pAlice = crypto.randomUUID();
      const pBob = crypto.randomUUID();
      const pCarol = crypto.randomUUID();
      for (const [pid, user] of [
        [pAlice, "alice"],
        [pBob, "bob"],
        [pCarol, "carol"],
      ] as const) {
        await database.db
          .insert(participants)
          .values({ id: pid, tenantId: tenant, meetingId: id, userId: user, displayName: user });
      }
      const send = (from: string, fromUser: string, content: string, to: string | null = null) =>
        database.db.insert(chatMessages).values({
          id: crypto.randomUUID(),
          tenantId: tenant,
          meetingId: id,
          senderParticipantId: from,
          senderUserId: fromUser,
          senderName: fromUser,
          recipientParticipantId: to,
          content,
        });
      await send(pAlice, "alice", "hello all");
      await send(pBob, "bob", "psst alice", pAlice);
      await send(pCarol, "carol", "hi");
      await send(pAlice, "alice", "psst carol", pCarol);
      for (let i = 0; i < 6; i++) await send(pBob, "bob", `n${i}`);
      return { tenant, alice, id };
    }
    const contents = (body: { data: { content: string }[] }) => body.data.map((m) => m.content);

    it("shows direct messages only to their sender and recipient", async () => {
      const { tenant, alice, id } = await chat();
      const forAlice = await call(t, "GET", `/api/meetings/${id}/messages?limit=100`, { token: alice });
      expect(contents(forAlice.body).slice(0, 4)).toEqual(["hello all", "psst alice", "hi", "psst carol"]);
      const bob = await as(tenant, "bob", "member");
      const forBob = await call(t, "GET", `/api/meetings/${id}/messages?limit=100`, { token: bob });
      expect(contents(forBob.body).slice(0, 3)).toEqual(["hello all", "psst alice", "hi"]);
      // Carol attended but was in neither direct message.
      const carol = await as(tenant, "carol", "member");
      const forCarol = await call(t, "GET", `/api/meetings/${id}/messages?limit=100`, { token: carol });
      expect(contents(forCarol.body)).not.toContain("psst alice");
      expect(contents(forCarol.body)).toContain("psst carol");
      expect(forCarol.body.data).toHaveLength(9);
      // Dave never attended: the meeting's chat is not his to read (policy.ts, `attendee`).
      const dave = await as(tenant, "dave", "member");
      const forDave = await call(t, "GET", `/api/meetings/${id}/messages?limit=100`, { token: dave });
      expect(forDave.status).toBe(403);
    });

    it("pages by seq: newest window by default, before and after", async () => {
      const { alice, id } = await chat();
      const newest = await call(t, "GET", `/api/meetings/${id}/messages?limit=3`, { token: alice });
      expect(contents(newest.body)).toEqual(["n3", "n4", "n5"]);
      expect(newest.body.has_more).toBe(true);
      const seqs = newest.body.data.map((m: { seq: number }) => m.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      const older = await call(t, "GET", `/api/meetings/${id}/messages?limit=3&before=${seqs[0]}`, {
        token: alice,
      });
      expect(contents(older.body)).toEqual(["n0", "n1", "n2"]);
      const first = await call(t, "GET", `/api/meetings/${id}/messages?limit=2&after=0`, { token: alice });
      expect(contents(first.body)).toEqual(["hello all", "psst alice"]);
      const lastSeq = first.body.data[1].seq;
      const next = await call(t, "GET", `/api/meetings/${id}/messages?limit=2&after=${lastSeq}`, {
        token: alice,
      });
      expect(contents(next.body)).toEqual(["hi", "psst carol"]);
      const tail = await call(t, "GET", `/api/meetings/${id}/messages?after=${seqs[2]}`, { token: alice });
      expect(tail.body).toEqual({ data: [], has_more: false });
    });

    it("rejects a non-numeric seq", async () => {
      const { alice, id } = await setup();
      const res = await call(t, "GET", `/api/meetings/${id}/messages?before=abc`, { token: alice });
      expect(res.status).toBe(400);
      expect(res.body.error.fields[0].path).toBe("before");
    });
  });

  describe("recordings", () => {
    it("lists recordings newest first", async () => {
      const { tenant, alice, id } = await setup();
      for (const [i, status] of (["ready", "processing", "failed"] as const).entries()) {
        await database.db.insert(recordings).values({
          id: crypto.randomUUID(),
          tenantId: tenant,
          meetingId: id,
          status,
          fileUrl: status === "ready" ? "file:///r/0.webm" : null,
          sizeBytes: status === "ready" ? 1234 : null,
          startedAt: new Date(Date.parse("2030-01-01T09:00:00Z") + i * 60_000),
        });
      }
      const page1 = await call(t, "GET", `/api/meetings/${id}/recordings?limit=2`, { token: alice });
      expect(page1.status).toBe(200);
      expect(page1.body.data.map((r: { status: string }) => r.status)).toEqual(["failed", "processing"]);
      const page2 = await call(t, "GET", `/api/meetings/${id}/recordings?cursor=${page1.body.next_cursor}`, {
        token: alice,
      });
      expect(page2.body.data).toEqual([
        expect.objectContaining({ status: "ready", file_url: "file:///r/0.webm", size_bytes: 1234 }),
      ]);
      expect(page2.body.next_cursor).toBeNull();
    });
  });

  it("members the meeting admitted can read its history; members it did not cannot", async () => {
    const { tenant, id } = await setup();
    const bob = await as(tenant, "bob", "member");
    for (const path of ["participants", "stats", "messages", "recordings"]) {
      expect((await call(t, "GET", `/api/meetings/${id}/${path}`, { token: bob })).status).toBe(403);
    }
    await database.db.insert(participants).values({
      id: crypto.randomUUID(),
      tenantId: tenant,
      meetingId: id,
      userId: "bob",
      displayName: "Bob",
      status: "left",
    });
    for (const path of ["participants", "stats", "messages", "recordings"]) {
      expect((await call(t, "GET", `/api/meetings/${id}/${path}`, { token: bob })).status).toBe(200);
    }
  });
});

import type { Database } from "@nexus/drizzle";
import { meetings } from "@nexus/drizzle";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appPerSuite, BACKENDS, call, freshTenant, type TestApp, userToken } from "./harness.js";

describe.each(BACKENDS)("meetings on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, (app, db) => {
    t = app;
    database = db;
  });

  const as = (tenant: string, sub: string, role = "host") => userToken({ tenant, sub, role, clock: t.clock });
  const create = async (token: string, body: Record<string, unknown> = {}) =>
    call(t, "POST", "/api/meetings", { token, body: { title: "Standup", ...body } });

  describe("happy path", () => {
    it("creates a meeting with defaults and never returns the password hash", async () => {
      const tenant = freshTenant();
      const res = await create(await as(tenant, "alice"), {
        description: "Daily",
        scheduled_start: "2030-01-02T10:00:00Z",
        scheduled_end: "2030-01-02T10:15:00Z",
        password: "s3cret",
        settings: { allow_chat: false },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        title: "Standup",
        description: "Daily",
        status: "scheduled",
        tenant_id: tenant,
        scheduled_start: "2030-01-02T10:00:00.000Z",
        scheduled_end: "2030-01-02T10:15:00.000Z",
        max_participants: 100,
        is_public: false,
        lobby_enabled: false,
        locked: false,
        has_password: true,
        created_by: "alice",
        settings: {
          mute_on_join: false,
          video_off_on_join: false,
          allow_screen_share: true,
          allow_multiple_screen_shares: false,
          allow_chat: false,
          empty_timeout_seconds: 300,
        },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/scrypt|password_hash|s3cret/);
      const [row] = await database.db.select().from(meetings).where(eq(meetings.id, res.body.id));
      expect(row?.passwordHash).toMatch(/^scrypt\$/);
    });

    it("gets a meeting by id", async () => {
      const token = await as(freshTenant(), "alice");
      const created = await create(token);
      const res = await call(t, "GET", `/api/meetings/${created.body.id}`, { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(created.body);
    });

    it("lists the tenant's meetings newest first with cursor pages", async () => {
      const tenant = freshTenant();
      const token = await as(tenant, "alice");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        t.clock.advance(i % 2 === 0 ? 1000 : 0); // some share a timestamp: the id breaks the tie
        ids.push((await create(token, { title: `m${i}` })).body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : "";
        const res = await call(t, "GET", `/api/meetings?limit=2${q}`, { token });
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((m: { id: string }) => m.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen).toHaveLength(5);
      const created = await Promise.all(
        seen.map(async (id) => (await call(t, "GET", `/api/meetings/${id}`, { token })).body.created_at),
      );
      expect([...created].sort().reverse()).toEqual(created);
    });

    it("filters by status and scheduled_start window", async () => {
      const token = await as(freshTenant(), "alice");
      const a = await create(token, { title: "a", scheduled_start: "2030-02-01T09:00:00Z" });
      await create(token, { title: "b", scheduled_start: "2030-03-01T09:00:00Z" });
      const c = await create(token, { title: "c" });
      await call(t, "POST", `/api/meetings/${c.body.id}/start`, { token });

      const active = await call(t, "GET", "/api/meetings?status=active", { token });
      expect(active.body.data.map((m: { title: string }) => m.title)).toEqual(["c"]);
      const feb = await call(t, "GET", "/api/meetings?from=2030-02-01T00:00:00Z&to=2030-02-28T00:00:00Z", {
        token,
      });
      expect(feb.body.data.map((m: { id: string }) => m.id)).toEqual([a.body.id]);
      expect(feb.body.next_cursor).toBeNull();
    });

    it("updates partially, sets and clears the password, and publishes meeting-updated", async () => {
      const tenant = freshTenant();
      const token = await as(tenant, "alice");
      const created = await create(token);
      const received: unknown[] = [];
      const unsub = await t.bus.subscribe(BUS_CHANNELS.meetings, (m) => received.push(m));
      t.clock.advance(5000);
      const res = await call(t, "PUT", `/api/meetings/${created.body.id}`, {
        token,
        body: { title: "Retro", password: "pw", locked: true, settings: { mute_on_join: true } },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ title: "Retro", has_password: true, locked: true, description: null });
      expect(res.body.settings.mute_on_join).toBe(true);
      expect(res.body.settings.allow_chat).toBe(true);
      expect(res.body.updated_at).not.toBe(created.body.updated_at);
      const cleared = await call(t, "PUT", `/api/meetings/${created.body.id}`, {
        token,
        body: { password: null },
      });
      expect(cleared.body.has_password).toBe(false);
      expect(cleared.body.title).toBe("Retro");
      const deadline = Date.now() + 2000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await unsub();
      expect(received[0]).toEqual({
        type: "meeting-updated",
        tenant_id: tenant,
        meeting_id: created.body.id,
        changes: { title: "Retro", locked: true },
      });
    });

    it("runs scheduled -> active -> ended and publishes meeting-ended", async () => {
      const tenant = freshTenant();
      const token = await as(tenant, "alice");
      const { id } = (await create(token)).body;
      const received: unknown[] = [];
      const unsub = await t.bus.subscribe(BUS_CHANNELS.meetings, (m) => received.push(m));
      const started = await call(t, "POST", `/api/meetings/${id}/start`, { token });
      expect(started.status).toBe(200);
      expect(started.body.status).toBe("active");
      expect(started.body.started_at).toBe(t.clock.now().toISOString());
      t.clock.advance(90_000);
      const ended = await call(t, "POST", `/api/meetings/${id}/end`, { token });
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ status: "ended", ended_at: t.clock.now().toISOString() });
      const deadline = Date.now() + 2000;
      while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await unsub();
      expect(received).toEqual([
        { type: "meeting-ended", tenant_id: tenant, meeting_id: id, reason: "ended_by_host" },
      ]);
    });

    it("deletes a scheduled meeting (204) and it is gone", async () => {
      const token = await as(freshTenant(), "alice");
      const { id } = (await create(token)).body;
      const res = await call(t, "DELETE", `/api/meetings/${id}`, { token });
      expect(res.status).toBe(204);
      expect(res.body).toBe("");
      expect((await call(t, "GET", `/api/meetings/${id}`, { token })).status).toBe(404);
    });

    it("deleting an active meeting ends it first and tells media", async () => {
      const tenant = freshTenant();
      const token = await as(tenant, "alice");
      const { id } = (await create(token)).body;
      await call(t, "POST", `/api/meetings/${id}/start`, { token });
      const received: unknown[] = [];
      const unsub = await t.bus.subscribe(BUS_CHANNELS.meetings, (m) => received.push(m));
      expect((await call(t, "DELETE", `/api/meetings/${id}`, { token })).status).toBe(204);
      const deadline = Date.now() + 2000;
      while (received.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await unsub();
      expect(received).toEqual([
        { type: "meeting-ended", tenant_id: tenant, meeting_id: id, reason: "deleted" },
      ]);
      const rows = await database.db.select().from(meetings).where(eq(meetings.id, id));
      expect(rows).toEqual([]);
    });
  });

  describe("errors", () => {
    it("answers 400 validation_failed naming each bad field", async () => {
      const token = await as(freshTenant(), "alice");
      const res = await call(t, "POST", "/api/meetings", {
        token,
        body: { title: "", max_participants: 5000, scheduled_start: "yesterday", nope: 1 },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.request_id).toBeTruthy();
      const paths = res.body.error.fields.map((f: { path: string }) => f.path);
      expect(paths).toEqual(expect.arrayContaining(["title", "max_participants", "scheduled_start"]));
    });

    it("rejects scheduled_end before scheduled_start", async () => {
      const token = await as(freshTenant(), "alice");
      const res = await create(token, {
        scheduled_start: "2030-01-02T10:00:00Z",
        scheduled_end: "2030-01-02T09:00:00Z",
      });
      expect(res.status).toBe(400);
      expect(res.body.error.fields).toEqual([
        { path: "scheduled_end", message: "must be after scheduled_start" },
      ]);
    });

    it("answers 400 bad_request for malformed JSON", async () => {
      const token = await as(freshTenant(), "alice");
      const res = await call(t, "POST", "/api/meetings", { token, rawBody: '{"title":' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("bad_request");
    });

    it("answers 413 payload_too_large over the body limit", async () => {
      const token = await as(freshTenant(), "alice");
      const res = await create(token, { description: "x".repeat(70_000) });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("payload_too_large");
    });

    it("answers 404 for unknown ids, non-uuid ids and unknown routes", async () => {
      const token = await as(freshTenant(), "alice");
      const unknown = await call(t, "GET", `/api/meetings/${crypto.randomUUID()}`, { token });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
      const junk = await call(t, "GET", "/api/meetings/not-a-uuid", { token });
      expect(junk.status).toBe(404);
      expect(junk.body.error.code).toBe("not_found");
      const route = await call(t, "GET", "/api/nothing-here", { token });
      expect(route.status).toBe(404);
      expect(route.body.error.code).toBe("not_found");
    });

    it("illegal transitions answer 409 invalid_state and change nothing", async () => {
      const token = await as(freshTenant(), "alice");
      const { id } = (await create(token)).body;
      const endScheduled = await call(t, "POST", `/api/meetings/${id}/end`, { token });
      expect(endScheduled.status).toBe(409);
      expect(endScheduled.body.error.code).toBe("invalid_state");
      expect((await call(t, "GET", `/api/meetings/${id}`, { token })).body.status).toBe("scheduled");
      await call(t, "POST", `/api/meetings/${id}/start`, { token });
      expect((await call(t, "POST", `/api/meetings/${id}/start`, { token })).status).toBe(409);
      await call(t, "POST", `/api/meetings/${id}/end`, { token });
      const restart = await call(t, "POST", `/api/meetings/${id}/start`, { token });
      expect(restart.status).toBe(409);
      const update = await call(t, "PUT", `/api/meetings/${id}`, { token, body: { title: "again" } });
      expect(update.status).toBe(409);
      expect(update.body.error.code).toBe("invalid_state");
      const after = await call(t, "GET", `/api/meetings/${id}`, { token });
      expect(after.body).toMatchObject({ status: "ended", title: "Standup" });
    });

    it("concurrent starts: exactly one wins", async () => {
      const token = await as(freshTenant(), "alice");
      const { id } = (await create(token)).body;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => call(t, "POST", `/api/meetings/${id}/start`, { token })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 409, 409, 409, 409, 409]);
    });
  });

  describe("security", () => {
    it("answers 401 without a token", async () => {
      const res = await call(t, "GET", "/api/meetings");
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    });

    it("never shows another tenant's meeting", async () => {
      const mine = await as(freshTenant(), "alice");
      const theirs = await as(freshTenant(), "alice", "admin");
      const { id } = (await create(mine)).body;
      for (const [method, path] of [
        ["GET", `/api/meetings/${id}`],
        ["PUT", `/api/meetings/${id}`],
        ["DELETE", `/api/meetings/${id}`],
        ["POST", `/api/meetings/${id}/start`],
        ["POST", `/api/meetings/${id}/end`],
        ["POST", `/api/meetings/${id}/join`],
        ["GET", `/api/meetings/${id}/participants`],
        ["GET", `/api/meetings/${id}/stats`],
        ["GET", `/api/meetings/${id}/messages`],
        ["GET", `/api/meetings/${id}/recordings`],
      ] as const) {
        const res = await call(t, method, path, { token: theirs, body: method === "GET" ? undefined : {} });
        expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 404, "not_found"]);
      }
      const list = await call(t, "GET", "/api/meetings", { token: theirs });
      expect(list.body.data).toEqual([]);
      expect((await call(t, "GET", `/api/meetings/${id}`, { token: mine })).body.status).toBe("scheduled");
    });

    it("a member may read but not create, update, start, end or delete", async () => {
      const tenant = freshTenant();
      const owner = await as(tenant, "alice");
      const member = await as(tenant, "bob", "member");
      const { id } = (await create(owner)).body;
      expect((await create(member)).status).toBe(403);
      expect((await call(t, "GET", `/api/meetings/${id}`, { token: member })).status).toBe(200);
      expect((await call(t, "GET", "/api/meetings", { token: member })).body.data).toHaveLength(1);
      for (const [method, path] of [
        ["PUT", `/api/meetings/${id}`],
        ["DELETE", `/api/meetings/${id}`],
        ["POST", `/api/meetings/${id}/start`],
        ["POST", `/api/meetings/${id}/end`],
      ] as const) {
        const res = await call(t, method, path, { token: member, body: {} });
        expect([path, res.status, res.body.error.code]).toEqual([path, 403, "forbidden"]);
      }
    });

    it("a host manages only their own meetings; an admin manages any in the tenant", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const carol = await as(tenant, "carol");
      const admin = await as(tenant, "root", "admin");
      const { id } = (await create(alice)).body;
      const byCarol = await call(t, "PUT", `/api/meetings/${id}`, {
        token: carol,
        body: { title: "mine now" },
      });
      expect(byCarol.status).toBe(403);
      const byAdmin = await call(t, "PUT", `/api/meetings/${id}`, {
        token: admin,
        body: { title: "renamed" },
      });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body.title).toBe("renamed");
      expect((await call(t, "POST", `/api/meetings/${id}/start`, { token: admin })).status).toBe(200);
    });
  });
});

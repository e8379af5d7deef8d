import type { Database } from "@nexus/drizzle";
import { meetings, participants } from "@nexus/drizzle";
import { verifyJoinToken } from "@nexus/platform/join-token";
import { eq } from "drizzle-orm";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  appPerSuite,
  BACKENDS,
  call,
  freshTenant,
  host,
  JOIN_SECRET,
  makeApp,
  type TestApp,
  userToken,
} from "./harness.js";

describe.each(BACKENDS)("join on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, async (app, db) => {
    t = app;
    database = db;
    await t.registry.upsert(host("host-a", { clock: t.clock, load: 30 }));
  });

  const as = (tenant: string, sub: string, role = "host", name?: string) =>
    userToken({ tenant, sub, role, name, clock: t.clock });
  async function meeting(token: string, body: Record<string, unknown> = {}) {
    const res = await call(t, "POST", "/api/meetings", { token, body: { title: "Sync", ...body } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const join = (id: string, token: string, body: Record<string, unknown> = {}) =>
    call(t, "POST", `/api/meetings/${id}/join`, { token, body });

  async function addParticipants(tenant: string, meetingId: string, n: number, status: "joined" | "left") {
    for (let i = 0; i < n; i++) {
      await database.db.insert(participants).values({
        id: crypto.randomUUID(),
        tenantId: tenant,
        meetingId,
        userId: `u${i}`,
        displayName: `U${i}`,
        status,
        leftAt: status === "left" ? t.clock.now() : null,
      });
    }
  }

  describe("happy path", () => {
    it("returns a join token the platform verifier accepts, with the right claims", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"));
      const res = await join(id, await as(tenant, "bob", "member", "Bob B."), {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        ws_url: "ws://127.0.0.1:9/host-a",
        meeting_id: id,
        host_id: "host-a",
        role: "member",
        expires_at: new Date(t.clock.ms + 60_000).toISOString(),
      });
      const claims = await verifyJoinToken(res.body.join_token, {
        secret: JOIN_SECRET,
        hostId: "host-a",
        now: t.clock.now(),
      });
      expect(claims).toMatchObject({
        meeting_id: id,
        participant_id: res.body.participant_id,
        tenant_id: tenant,
        user_id: "bob",
        name: "Bob B.",
        role: "member",
        host_id: "host-a",
      });
      expect(claims.jti.length).toBeGreaterThanOrEqual(8);
      expect(decodeJwt(res.body.join_token).exp).toBe(t.clock.seconds + 60);
      const [row] = await database.db.select().from(meetings).where(eq(meetings.id, id));
      expect(row?.mediaHostId).toBe("host-a");
    });

    it("uses display_name over the token name, and the sub when neither is given", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"));
      const named = await join(id, await as(tenant, "bob", "member", "Bob"), { display_name: "  Robert " });
      expect(decodeJwt(named.body.join_token).name).toBe("Robert");
      const bare = await join(id, await as(tenant, "dave", "member"));
      expect(decodeJwt(bare.body.join_token).name).toBe("dave");
    });

    it("the creator and tenant admins join as host; other hosts and members as member", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"));
      expect((await join(id, await as(tenant, "alice"))).body.role).toBe("host");
      expect((await join(id, await as(tenant, "root", "admin"))).body.role).toBe("host");
      expect((await join(id, await as(tenant, "carol", "host"))).body.role).toBe("member");
      expect((await join(id, await as(tenant, "bob", "member"))).body.role).toBe("member");
    });

    it("accepts the right password", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"), { password: "open sesame" });
      const res = await join(id, await as(tenant, "bob", "member"), { password: "open sesame" });
      expect(res.status).toBe(200);
    });
  });

  describe("errors", () => {
    it("refuses a wrong or missing password with 401 wrong_password", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"), { password: "open sesame" });
      const bob = await as(tenant, "bob", "member");
      const wrong = await join(id, bob, { password: "open sesame!" });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe("wrong_password");
      const missing = await join(id, bob);
      expect(missing.status).toBe(401);
      expect(missing.body.error.code).toBe("wrong_password");
    });

    it("refuses an ended meeting with 409 invalid_state", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = await meeting(alice);
      await call(t, "POST", `/api/meetings/${id}/start`, { token: alice });
      await call(t, "POST", `/api/meetings/${id}/end`, { token: alice });
      const res = await join(id, await as(tenant, "bob", "member"));
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("invalid_state");
    });

    it("refuses a locked meeting with 423 meeting_locked (its host still gets in)", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = await meeting(alice);
      await call(t, "PUT", `/api/meetings/${id}`, { token: alice, body: { locked: true } });
      const res = await join(id, await as(tenant, "bob", "member"));
      expect(res.status).toBe(423);
      expect(res.body.error.code).toBe("meeting_locked");
      expect((await join(id, alice)).status).toBe(200);
    });

    it("refuses a full meeting with 409 meeting_full; people who left don't count", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"), { max_participants: 2 });
      await addParticipants(tenant, id, 3, "left");
      await addParticipants(tenant, id, 1, "joined");
      const bob = await as(tenant, "bob", "member");
      expect((await join(id, bob)).status).toBe(200);
      await addParticipants(tenant, id, 1, "joined");
      const full = await join(id, bob);
      expect(full.status).toBe(409);
      expect(full.body.error.code).toBe("meeting_full");
    });

    it("refuses a user a host removed with 403 forbidden, before any password check; others still join", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = await meeting(alice, { password: "open sesame" });
      const other = await meeting(alice);
      await database.db.insert(participants).values({
        id: crypto.randomUUID(),
        tenantId: tenant,
        meetingId: id,
        userId: "mallory",
        displayName: "Mallory",
        status: "removed",
        leftAt: t.clock.now(),
      });
      const mallory = await as(tenant, "mallory", "member");
      const refused = await join(id, mallory, { password: "open sesame" });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
      expect(refused.body.error.message).toMatch(/removed/);
      // The removal is this meeting's, this tenant's: another meeting, and the same name elsewhere, are fine.
      expect((await join(other, mallory)).status).toBe(200);
      expect((await join(id, await as(freshTenant(), "mallory", "member"), { password: "x" })).status).toBe(
        404,
      );
      expect((await join(id, await as(tenant, "bob", "member"), { password: "open sesame" })).status).toBe(
        200,
      );
      // The meeting's host is never locked out of their own meeting.
      expect((await join(id, alice)).status).toBe(200);
    });

    it("answers 503 no_media_host when no host is live", async () => {
      const empty = makeApp(database, { clock: t.clock });
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const res = await call(empty, "POST", "/api/meetings", { token: alice, body: { title: "x" } });
      await empty.registry.upsert(host("stale", { clock: t.clock, heartbeat_at: t.clock.ms - 60_000 }));
      await empty.registry.upsert(host("leaving", { clock: t.clock, draining: true }));
      const joined = await call(empty, "POST", `/api/meetings/${res.body.id}/join`, {
        token: alice,
        body: {},
      });
      expect(joined.status).toBe(503);
      expect(joined.body.error.code).toBe("no_media_host");
    });

    it("rejects unknown body fields", async () => {
      const tenant = freshTenant();
      const id = await meeting(await as(tenant, "alice"));
      const res = await join(id, await as(tenant, "bob", "member"), { role: "host" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    });
  });

  describe("placement", () => {
    it("picks the least-loaded live host and skips stale, draining and full ones", async () => {
      const p = makeApp(database, { clock: t.clock });
      const c = t.clock;
      await p.registry.upsert(host("busy", { clock: c, load: 80 }));
      await p.registry.upsert(host("calm", { clock: c, load: 20 }));
      await p.registry.upsert(host("stale", { clock: c, load: 0, heartbeat_at: c.ms - 16_000 }));
      await p.registry.upsert(host("draining", { clock: c, load: 0, draining: true }));
      await p.registry.upsert(host("full", { clock: c, load: 10, capacity: 10 }));
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = (await call(p, "POST", "/api/meetings", { token: alice, body: { title: "x" } })).body.id;
      const res = await call(p, "POST", `/api/meetings/${id}/join`, { token: alice, body: {} });
      expect(res.status).toBe(200);
      expect(res.body.host_id).toBe("calm");
      expect(await p.registry.meetingOwner(id)).toBe("calm");
    });

    it("keeps an already-assigned live owner even when another host is now less loaded", async () => {
      const p = makeApp(database, { clock: t.clock });
      const c = t.clock;
      await p.registry.upsert(host("first", { clock: c, load: 10 }));
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = (await call(p, "POST", "/api/meetings", { token: alice, body: { title: "x" } })).body.id;
      expect(
        (await call(p, "POST", `/api/meetings/${id}/join`, { token: alice, body: {} })).body.host_id,
      ).toBe("first");
      await p.registry.upsert(host("first", { clock: c, load: 90, draining: true }));
      await p.registry.upsert(host("second", { clock: c, load: 0 }));
      const again = await call(p, "POST", `/api/meetings/${id}/join`, {
        token: await as(tenant, "bob", "member"),
        body: {},
      });
      expect(again.body.host_id).toBe("first");
    });

    it("moves a meeting whose owner stopped heartbeating", async () => {
      const p = makeApp(database, { clock: t.clock });
      const c = t.clock;
      await p.registry.upsert(host("old", { clock: c }));
      const tenant = freshTenant();
      const alice = await as(tenant, "alice");
      const id = (await call(p, "POST", "/api/meetings", { token: alice, body: { title: "x" } })).body.id;
      expect(
        (await call(p, "POST", `/api/meetings/${id}/join`, { token: alice, body: {} })).body.host_id,
      ).toBe("old");
      c.advance(20_000);
      await p.registry.upsert(host("new", { clock: c }));
      const moved = await call(p, "POST", `/api/meetings/${id}/join`, {
        token: await as(tenant, "alice"),
        body: {},
      });
      expect(moved.status).toBe(200);
      expect(moved.body.host_id).toBe("new");
      expect(await p.registry.meetingOwner(id)).toBe("new");
    });
  });
});

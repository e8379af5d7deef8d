import { verifyJoinToken } from "@nexus/platform/join-token";
import { describe, expect, it } from "vitest";
import {
  appPerSuite,
  BACKENDS,
  call,
  freshTenant,
  host,
  JOIN_SECRET,
  type TestApp,
  userToken,
} from "./harness.js";

describe.each(BACKENDS)("guest links on $name", (backend) => {
  let t: TestApp;
  appPerSuite(backend, async (app) => {
    t = app;
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });
  const as = (tenant: string, sub = "alice", role = "host") =>
    userToken({ tenant, sub, role, clock: t.clock });
  const meeting = async (token: string, body: Record<string, unknown> = {}) => {
    const res = await call(t, "POST", "/api/meetings", { token, body: { title: "Review", ...body } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const link = async (token: string, id: string, body: Record<string, unknown> = {}) => {
    const res = await call(t, "POST", `/api/meetings/${id}/guest-links`, { token, body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string; url: string; expires_at: string };
  };
  const guestJoin = (token: string, display_name = "Grace (external)") =>
    call(t, "POST", "/guest/join", { body: { token, display_name } });
  const claimsOf = (joinToken: string) =>
    verifyJoinToken(joinToken, { secret: JOIN_SECRET, hostId: "host-a", now: t.clock.now() });

  describe("happy path", () => {
    it("a host creates a link; a guest without an account joins as guest, through the lobby", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant);
      const id = await meeting(alice);
      const created = await link(alice, id, { label: "Vendor", max_uses: 2 });
      expect(created).toMatchObject({
        meeting_id: id,
        label: "Vendor",
        max_uses: 2,
        uses: 0,
        lobby: true,
        active: true,
      });
      expect(created.token).toMatch(/^gl_[A-Za-z0-9_-]{32}$/);
      expect(created.url).toMatch(new RegExp(`/#/g/${created.token}$`));
      expect(Date.parse(created.expires_at) - t.clock.ms).toBe(86_400_000);

      const info = await call(t, "POST", "/guest/link", { body: { token: created.token } });
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ meeting_id: id, title: "Review", lobby: true });

      const res = await guestJoin(created.token);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ meeting_id: id, role: "guest", host_id: "host-a" });
      const claims = await claimsOf(res.body.join_token);
      expect(claims).toMatchObject({
        meeting_id: id,
        tenant_id: tenant,
        role: "guest",
        name: "Grace (external)",
        lobby: true,
        participant_id: res.body.participant_id,
      });
      expect(claims.user_id).toMatch(/^guest:/);

      const list = await call(t, "GET", `/api/meetings/${id}/guest-links`, { token: alice });
      expect(list.body.data).toHaveLength(1);
      expect(list.body.data[0]).toMatchObject({ id: created.id, uses: 1, active: true });
      expect(JSON.stringify(list.body)).not.toContain(created.token);
    });

    it("lets the host waive the forced lobby on a link (the meeting's own lobby still applies)", async () => {
      const alice = await as(freshTenant());
      const id = await meeting(alice);
      const created = await link(alice, id, { lobby: false });
      const res = await guestJoin(created.token);
      expect(res.status).toBe(200);
      expect((await claimsOf(res.body.join_token)).lobby).toBeUndefined();
    });
  });

  describe("refusals", () => {
    it("refuses an expired link", async () => {
      const alice = await as(freshTenant());
      const id = await meeting(alice);
      const created = await link(alice, id, { expires_in_seconds: 60 });
      t.clock.advance(61_000);
      try {
        for (const res of [
          await guestJoin(created.token),
          await call(t, "POST", "/guest/link", { body: { token: created.token } }),
        ]) {
          expect(res.status).toBe(403);
          expect(res.body.error).toMatchObject({ code: "forbidden", message: "this guest link has expired" });
        }
        const list = await call(t, "GET", `/api/meetings/${id}/guest-links`, { token: alice });
        expect(list.body.data[0]).toMatchObject({ active: false, uses: 0 });
      } finally {
        t.clock.advance(-61_000);
      }
    });

    it("refuses a revoked link, and revoking twice or someone else's link changes nothing", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant);
      const id = await meeting(alice);
      const created = await link(alice, id);
      expect((await guestJoin(created.token)).status).toBe(200);
      const path = `/api/meetings/${id}/guest-links/${created.id}`;
      expect((await call(t, "DELETE", path, { token: await as(tenant, "bob", "host") })).status).toBe(403);
      expect((await call(t, "DELETE", path, { token: await as(freshTenant()) })).status).toBe(404);
      expect((await call(t, "DELETE", path, { token: alice })).status).toBe(204);
      expect((await call(t, "DELETE", path, { token: alice })).status).toBe(204);
      const res = await guestJoin(created.token);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe("this guest link was revoked");
      const missing = `/api/meetings/${id}/guest-links/${crypto.randomUUID()}`;
      expect((await call(t, "DELETE", missing, { token: alice })).status).toBe(404);
    });

    it("refuses a used-up link, also when guests race for the last use", async () => {
      const alice = await as(freshTenant());
      const id = await meeting(alice);
      const created = await link(alice, id, { max_uses: 3 });
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => guestJoin(created.token, `G${i}`)),
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
      for (const a of answers.filter((x) => x.status !== 200)) {
        expect(a.status).toBe(403);
        expect(a.body.error.message).toBe("this guest link has been used up");
      }
      const list = await call(t, "GET", `/api/meetings/${id}/guest-links`, { token: alice });
      expect(list.body.data[0]).toMatchObject({ uses: 3, active: false });
    });

    it("refuses unknown tokens and bad bodies with typed errors", async () => {
      const unknown = await guestJoin("gl_nope");
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
      for (const body of [
        { token: "gl_x" },
        { token: "gl_x", display_name: "" },
        { token: "", display_name: "A" },
        { token: "gl_x", display_name: "A", role: "host" },
      ]) {
        const res = await call(t, "POST", "/guest/join", { body });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe("validation_failed");
      }
      const alice = await as(freshTenant());
      const id = await meeting(alice);
      const bad = await call(t, "POST", `/api/meetings/${id}/guest-links`, {
        token: alice,
        body: { expires_in_seconds: 10 },
      });
      expect(bad.status).toBe(400);
    });

    it("refuses joins into a locked or ended meeting, and links for an ended one", async () => {
      const alice = await as(freshTenant());
      const id = await meeting(alice);
      const created = await link(alice, id);
      await call(t, "PUT", `/api/meetings/${id}`, { token: alice, body: { locked: true } });
      expect((await guestJoin(created.token)).body.error.code).toBe("meeting_locked");
      await call(t, "PUT", `/api/meetings/${id}`, { token: alice, body: { locked: false } });
      await call(t, "POST", `/api/meetings/${id}/start`, { token: alice });
      await call(t, "POST", `/api/meetings/${id}/end`, { token: alice });
      expect((await guestJoin(created.token)).body.error.code).toBe("invalid_state");
      const late = await call(t, "POST", `/api/meetings/${id}/guest-links`, { token: alice, body: {} });
      expect(late.body.error.code).toBe("invalid_state");
      const list = await call(t, "GET", `/api/meetings/${id}/guest-links`, { token: alice });
      expect(list.body.data[0].uses).toBe(0);
    });
  });

  describe("security", () => {
    it("only the meeting's hosts make or list links", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant);
      const id = await meeting(alice);
      for (const token of [await as(tenant, "bob", "member"), await as(tenant, "carol", "host")]) {
        expect((await call(t, "POST", `/api/meetings/${id}/guest-links`, { token, body: {} })).status).toBe(
          403,
        );
        expect((await call(t, "GET", `/api/meetings/${id}/guest-links`, { token })).status).toBe(403);
      }
      const admin = await as(tenant, "root", "admin");
      expect(
        (await call(t, "POST", `/api/meetings/${id}/guest-links`, { token: admin, body: {} })).status,
      ).toBe(201);
      const stranger = await as(freshTenant(), "mallory", "admin");
      expect(
        (await call(t, "POST", `/api/meetings/${id}/guest-links`, { token: stranger, body: {} })).status,
      ).toBe(404);
    });

    it("a guest reaches one meeting and nothing else: no API, no other meeting, no host role", async () => {
      const tenant = freshTenant();
      const alice = await as(tenant);
      const ours = await meeting(alice);
      const other = await meeting(alice, { title: "Board" });
      const created = await link(alice, ours);
      const res = await guestJoin(created.token);
      const claims = await claimsOf(res.body.join_token);
      expect(claims.meeting_id).toBe(ours);
      expect(claims.meeting_id).not.toBe(other);
      expect(claims.role).toBe("guest");
      // Neither the join token nor the link token opens the REST API.
      for (const bearer of [res.body.join_token, created.token]) {
        for (const [method, path] of [
          ["GET", `/api/meetings/${other}`],
          ["POST", `/api/meetings/${other}/join`],
          ["POST", `/api/meetings/${ours}/end`],
          ["GET", `/api/meetings/${ours}/guest-links`],
        ] as const) {
          const r = await call(t, method, path, { token: bearer, body: method === "POST" ? {} : undefined });
          expect(r.status).toBe(401);
        }
      }
      // The guest body cannot choose a meeting, a role or the lobby.
      const forged = await call(t, "POST", "/guest/join", {
        body: { token: created.token, display_name: "X", meeting_id: other },
      });
      expect(forged.status).toBe(400);
    });
  });
});

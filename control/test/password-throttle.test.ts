import type { Database } from "@nexus/drizzle";
import { passwordAttempts } from "@nexus/drizzle";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { appPerSuite, BACKENDS, call, freshTenant, host, type TestApp, userToken } from "./harness.js";

describe.each(BACKENDS)("password throttling on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, async (app, db) => {
    t = app;
    database = db;
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });

  const as = (tenant: string, sub: string, role = "member") =>
    userToken({ tenant, sub, role, clock: t.clock });
  async function lockedMeeting(tenant: string): Promise<string> {
    const res = await call(t, "POST", "/api/meetings", {
      token: await as(tenant, "alice", "host"),
      body: { title: "Board", password: "correct horse" },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const join = async (id: string, token: string, password: string) => {
    // The test clock jumps; the media host's heartbeat keeps up so placement never lacks a host.
    await t.registry.upsert(host("host-a", { clock: t.clock }));
    return call(t, "POST", `/api/meetings/${id}/join`, { token, body: { password } });
  };

  it("answers 429 with Retry-After after five wrong passwords, even for the right one, until the window passes", async () => {
    const tenant = freshTenant();
    const id = await lockedMeeting(tenant);
    const bob = await as(tenant, "bob");
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1_000);
      expect((await join(id, bob, `guess ${i}`)).status).toBe(401);
    }
    const throttled = await join(id, bob, "correct horse");
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe("rate_limited");
    // The first failure was 5 s before the last; it leaves the 5-minute window 295 s from now.
    expect(throttled.headers.get("Retry-After")).toBe("296");

    // Another user of the same meeting is not punished for bob's guesses.
    expect((await join(id, await as(tenant, "carol"), "correct horse")).status).toBe(200);

    t.clock.advance(296_000);
    expect((await join(id, bob, "correct horse")).status).toBe(200);
    const left = await database.db.select().from(passwordAttempts).where(eq(passwordAttempts.meetingId, id));
    expect(left.filter((r) => r.userId === "bob")).toEqual([]);
  });

  it("throttles the whole meeting after twenty wrong passwords from many users", async () => {
    const tenant = freshTenant();
    const id = await lockedMeeting(tenant);
    for (let i = 0; i < 20; i++) {
      expect((await join(id, await as(tenant, `guesser-${i % 10}`), "nope")).status).toBe(401);
    }
    const fresh = await join(id, await as(tenant, "newcomer"), "correct horse");
    expect(fresh.status).toBe(429);
    expect(Number(fresh.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The meeting's own host is not asked for the password, so it is not locked out by others' guesses.
    expect((await join(id, await as(tenant, "alice", "host"), "")).status).toBe(200);
  });
});

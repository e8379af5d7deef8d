import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { serve } from "@hono/node-server";
import type { Database } from "@nexus/drizzle";
import { passwordThrottle } from "@nexus/drizzle";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appPerSuite, BACKENDS, call, freshTenant, host, type TestApp, userToken } from "./harness.js";

/** An address of this machine that is not loopback, so one test sees two distinct client addresses. */
function outsideAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("this machine has no non-loopback IPv4 address");
}

describe.each(BACKENDS)("password throttling on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  let server: ReturnType<typeof serve>;
  let port: number;
  appPerSuite(backend, async (app, db) => {
    t = app;
    database = db;
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });
  // The real HTTP server, on every interface: the address a request comes from is the TCP peer's.
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: t.app.fetch, port: 0, hostname: "0.0.0.0" }, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

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
  /** A join over HTTP from `from` (an address of this machine). */
  const join = async (id: string, token: string, password: string, from = "127.0.0.1") => {
    // The test clock jumps; the media host's heartbeat keeps up so placement never lacks a host.
    await t.registry.upsert(host("host-a", { clock: t.clock }));
    const res = await fetch(`http://${from}:${port}/api/meetings/${id}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ password }),
    });
    const body = await res.json();
    return { status: res.status, body, headers: res.headers };
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
    // The window opened with the first guess, 4 s before the last; it ends 296 s from now.
    expect(throttled.headers.get("Retry-After")).toBe("296");

    // Another user of the same meeting is not punished for bob's guesses.
    expect((await join(id, await as(tenant, "carol"), "correct horse")).status).toBe(200);

    t.clock.advance(296_000);
    expect((await join(id, bob, "correct horse")).status).toBe(200);
    const rows = await database.db.select().from(passwordThrottle).where(eq(passwordThrottle.meetingId, id));
    expect(rows.filter((r) => r.subject === "user:bob")).toEqual([]);
  });

  it("counts parallel guesses atomically: only the allowance of them is ever checked", async () => {
    const tenant = freshTenant();
    const id = await lockedMeeting(tenant);
    const mallory = await as(tenant, "mallory");
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => join(id, mallory, `guess ${i}`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
  });

  it("lets no crowd of accounts lock the meeting for anyone else", async () => {
    const tenant = freshTenant();
    const id = await lockedMeeting(tenant);
    const other = outsideAddress();
    // Twenty accounts from one address (four guesses each would be 80; the address stops them at 20).
    let refused = 0;
    for (let i = 0; i < 25; i++) {
      const answer = await join(id, await as(tenant, `guesser-${i}`), "nope");
      if (answer.status === 429) refused += 1;
      else expect(answer.status).toBe(401);
    }
    expect(refused).toBe(5);
    // A newcomer from that address waits; one from anywhere else is let in with the right password.
    expect((await join(id, await as(tenant, "newcomer"), "correct horse")).status).toBe(429);
    expect((await join(id, await as(tenant, "newcomer"), "correct horse", other)).status).toBe(200);
    expect((await join(id, await as(tenant, "dora"), "correct horse", other)).status).toBe(200);
    // The meeting's own host is not asked for the password at all.
    expect((await join(id, await as(tenant, "alice", "host"), "")).status).toBe(200);
  });

  it("backs off: a second lockout in a row lasts twice as long", async () => {
    const tenant = freshTenant();
    const id = await lockedMeeting(tenant);
    const bob = await as(tenant, "bob");
    for (let i = 0; i < 6; i++) await join(id, bob, "nope");
    const first = await join(id, bob, "nope");
    expect(first.status).toBe(429);
    expect(Number(first.headers.get("Retry-After"))).toBe(300);
    t.clock.advance(300_000);
    for (let i = 0; i < 5; i++) expect((await join(id, bob, "nope")).status).toBe(401);
    const second = await join(id, bob, "nope");
    expect(second.status).toBe(429);
    expect(Number(second.headers.get("Retry-After"))).toBe(600);
  });
});

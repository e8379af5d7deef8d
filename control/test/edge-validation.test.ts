import type { Database } from "@nexus/drizzle";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../src/services/cursor.js";
import {
  appPerSuite,
  BACKENDS,
  call,
  capturingLogger,
  freshTenant,
  host,
  makeApp,
  type TestApp,
  userToken,
} from "./harness.js";

const ERROR_LEVEL = 50;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/**
 * Hole 7 of issue 16: inputs the schemas accepted but the database could not take answered 500 (timestamps
 * Date cannot parse, years outside PostgreSQL's range, NUL characters, cursors with absurd dates, numbers
 * like 1e21). Each is now 400 validation_failed at the edge, with nothing logged at error level.
 */
describe.each(BACKENDS)("inputs the database cannot take, on $name", (backend) => {
  let t: TestApp;
  const log = capturingLogger();
  appPerSuite(backend, async (_app, database: Database) => {
    t = makeApp(database, { deps: { logger: log.logger } });
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });

  it("answers 400 validation_failed for each, never 500, and logs none of them as an error", async () => {
    const tenant = freshTenant();
    const token = await userToken({ tenant, sub: "ann", role: "host", clock: t.clock });
    const created = await call(t, "POST", "/api/meetings", { token, body: { title: "Edge" } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const bodies: Record<string, unknown>[] = [
      { title: "a", scheduled_start: "2030-02-31T10:00:00Z" },
      { title: "a", scheduled_start: "0000-01-01T00:00:00Z" },
      { title: "a", scheduled_start: "9999-12-31T23:59:59-23:59" },
      { title: "a", scheduled_end: "1000-01-01T00:00:00Z" },
      { title: "nul\u0000title" },
      { title: "a", description: "d\u0000" },
      { title: "a", password: "p\u0000w" },
      { title: "a", max_participants: 1e21 },
      { title: "a", settings: { empty_timeout_seconds: 1e21 } },
    ];
    const answers: number[] = [];
    for (const body of bodies) {
      const res = await call(t, "POST", "/api/meetings", { token, body });
      answers.push(res.status);
      expect(res.body.error?.code, JSON.stringify(body)).toBe("validation_failed");
      const put = await call(t, "PUT", `/api/meetings/${id}`, { token, body });
      expect(put.status, JSON.stringify(body)).toBe(400);
    }
    expect(answers.every((s) => s === 400)).toBe(true);

    const queries = [
      "/api/meetings?from=2030-13-01T00:00:00Z",
      "/api/meetings?to=0001-01-01T00:00:00Z",
      `/api/meetings?cursor=${b64(["+275760-09-13T00:00:00.000Z", crypto.randomUUID()])}`,
      `/api/meetings?cursor=${b64(["-000001-01-01T00:00:00.000Z", crypto.randomUUID()])}`,
      `/api/meetings?cursor=${encodeURIComponent("a\u0000b")}`,
      `/api/meetings/${id}/participants?cursor=${b64(["-100000-01-01T00:00:00.000Z", crypto.randomUUID()])}`,
      `/api/meetings/${id}/messages?before=1000000000000000000000`,
      `/api/meetings/${id}/messages?after=99999999999999999999999`,
    ];
    for (const path of queries) {
      const res = await call(t, "GET", path, { token });
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe("validation_failed");
    }
    // A real cursor still works, and so do ordinary writes.
    const ok = await call(t, "GET", `/api/meetings?cursor=${encodeCursor({ at: new Date(), id })}`, {
      token,
    });
    expect(ok.status).toBe(200);

    // NUL in a display name: refused before any participant row could carry it.
    const join = await call(t, "POST", `/api/meetings/${id}/join`, {
      token,
      body: { display_name: "A\u0000" },
    });
    expect(join.status).toBe(400);
    // ...and in a token's claims: not a user at all.
    for (const claims of [{ sub: "a\u0000" }, { tenant: "t\u0000" }, { name: "N\u0000" }]) {
      const bad = await userToken({ tenant, sub: "ann", role: "host", clock: t.clock, ...claims });
      expect((await call(t, "GET", "/api/meetings", { token: bad })).status).toBe(401);
    }
    expect(log.lines.filter((l) => l.level >= ERROR_LEVEL)).toEqual([]);
  });
});

describe("meetings per user", () => {
  it("caps the meetings one user may have open, and ending one makes room", async () => {
    const { createDb } = await import("@nexus/drizzle");
    const { testConfig } = await import("./harness.js");
    const database = createDb("memory://");
    await database.migrate();
    try {
      const t = makeApp(database, { config: testConfig({ MAX_OPEN_MEETINGS_PER_USER: "3" }) });
      const tenant = freshTenant();
      const token = await userToken({ tenant, sub: "ann", role: "host", clock: t.clock });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(t, "POST", "/api/meetings", { token, body: { title: `m${i}` } });
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      const over = await call(t, "POST", "/api/meetings", { token, body: { title: "one too many" } });
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe("rate_limited");
      // Someone else of the tenant is not held back by ann's meetings.
      const bob = await userToken({ tenant, sub: "bob", role: "host", clock: t.clock });
      expect((await call(t, "POST", "/api/meetings", { token: bob, body: { title: "b" } })).status).toBe(201);
      expect((await call(t, "POST", `/api/meetings/${ids[0]}/start`, { token })).status).toBe(200);
      expect((await call(t, "POST", `/api/meetings/${ids[0]}/end`, { token })).status).toBe(200);
      expect((await call(t, "POST", "/api/meetings", { token, body: { title: "again" } })).status).toBe(201);
    } finally {
      await database.close();
    }
  });
});

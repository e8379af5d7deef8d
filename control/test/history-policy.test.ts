import type { Database } from "@nexus/drizzle";
import { participants } from "@nexus/drizzle";
import type { ParticipantStatus } from "@nexus/shared/meeting";
import { describe, expect, it } from "vitest";
import { MORE_ROUTE_POLICY, ROUTE_POLICY } from "../src/policy.js";
import { appPerSuite, BACKENDS, call, freshTenant, type TestApp, userToken } from "./harness.js";

const HISTORY = ["participants", "stats", "messages", "recordings"] as const;

/**
 * Hole 3 of issue 16: any user of the tenant read any meeting's chat and participant list, whatever the
 * lobby, password, removal or denial. The policy (policy.ts) is `attendee` on every history route.
 */
describe.each(BACKENDS)("history follows the meeting's access rules on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, (app, db) => {
    t = app;
    database = db;
  });

  const as = (tenant: string, sub: string, role = "member") =>
    userToken({ tenant, sub, role, clock: t.clock });
  const row = (tenant: string, meetingId: string, userId: string, status: ParticipantStatus) =>
    database.db.insert(participants).values({
      id: crypto.randomUUID(),
      tenantId: tenant,
      meetingId,
      userId,
      displayName: userId,
      status,
    });
  const statuses = async (id: string, token: string) => {
    const out: number[] = [];
    for (const path of HISTORY)
      out.push((await call(t, "GET", `/api/meetings/${id}/${path}`, { token })).status);
    return out;
  };

  it("answers hosts, admins and admitted participants; refuses lobby, denied, removed and strangers", async () => {
    const tenant = freshTenant();
    const creator = await as(tenant, "carla", "host");
    const created = await call(t, "POST", "/api/meetings", {
      token: creator,
      body: { title: "Secret board", password: "s3cret", lobby_enabled: true },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await row(tenant, id, "ada", "joined");
    await row(tenant, id, "leo", "left");
    await row(tenant, id, "wes", "lobby");
    await row(tenant, id, "dan", "denied");
    await row(tenant, id, "rex", "left");
    await row(tenant, id, "rex", "removed");

    const ok = [200, 200, 200, 200];
    const no = [403, 403, 403, 403];
    expect(await statuses(id, creator)).toEqual(ok);
    expect(await statuses(id, await as(tenant, "root", "admin"))).toEqual(ok);
    expect(await statuses(id, await as(tenant, "ada"))).toEqual(ok);
    expect(await statuses(id, await as(tenant, "leo"))).toEqual(ok);
    expect(await statuses(id, await as(tenant, "wes"))).toEqual(no);
    expect(await statuses(id, await as(tenant, "dan"))).toEqual(no);
    expect(await statuses(id, await as(tenant, "rex"))).toEqual(no);
    expect(await statuses(id, await as(tenant, "eve"))).toEqual(no);
    // A host of the tenant who did not create it is a stranger to this meeting's history.
    expect(await statuses(id, await as(tenant, "hal", "host"))).toEqual(no);
    // Another tenant's admin does not even find it.
    expect(await statuses(id, await as(freshTenant(), "root", "admin"))).toEqual([404, 404, 404, 404]);
    // The meeting's card stays readable to the tenant (it is how one asks to join).
    expect((await call(t, "GET", `/api/meetings/${id}`, { token: await as(tenant, "eve") })).status).toBe(
      200,
    );
  });
});

describe("the policy table", () => {
  it("names every route the app serves under /api, and nothing else", async () => {
    const { makeApp } = await import("./harness.js");
    const { createDb } = await import("@nexus/drizzle");
    const database = createDb("memory://");
    try {
      const { app } = makeApp(database);
      const served = new Set(
        app.routes
          .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
          .map((r) => `${r.method} ${r.path}`),
      );
      expect([...served].sort()).toEqual(
        [...Object.keys(ROUTE_POLICY), ...Object.keys(MORE_ROUTE_POLICY)].sort(),
      );
    } finally {
      await database.close();
    }
  });
});

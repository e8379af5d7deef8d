import type { Database } from "@nexus/drizzle";
import { participants } from "@nexus/drizzle";
import { describe, expect, it } from "vitest";
import { allows, type Caller, type PolicyRoute, ROUTE_POLICY } from "../src/policy.js";
import { appPerSuite, BACKENDS, call, freshTenant, host, type TestApp, userToken } from "./harness.js";

/**
 * The tenant x role matrix of issue 16, generated from the route table: every REST route, for callers of the
 * meeting's own tenant (admin, its creator, its creator since demoted to member, another host, a member it
 * admitted, a member it did not), another tenant's admin and nobody, on a scheduled, an active and an ended
 * meeting. The answer must be what ROUTE_POLICY and allows() in policy.ts say: refused with 401 / 403 / 404
 * exactly when they refuse (a permitted call may still meet a state rule: 409).
 */
interface MatrixCaller extends Caller {
  name: string;
  sub: string;
  tenant: "own" | "other" | "none";
}

const CALLERS: MatrixCaller[] = [
  { name: "admin", sub: "root", role: "admin", creator: false, admitted: false, tenant: "own" },
  { name: "creator", sub: "carla", role: "host", creator: true, admitted: false, tenant: "own" },
  { name: "demoted creator", sub: "carla", role: "member", creator: true, admitted: false, tenant: "own" },
  { name: "other host", sub: "hal", role: "host", creator: false, admitted: false, tenant: "own" },
  { name: "admitted member", sub: "ada", role: "member", creator: false, admitted: true, tenant: "own" },
  { name: "member", sub: "mo", role: "member", creator: false, admitted: false, tenant: "own" },
  {
    name: "other tenant's admin",
    sub: "root",
    role: "admin",
    creator: false,
    admitted: false,
    tenant: "other",
  },
  { name: "nobody", sub: "", role: "member", creator: false, admitted: false, tenant: "none" },
];
const STATES = ["scheduled", "active", "ended"] as const;
const BODIES: Partial<Record<PolicyRoute, unknown>> = {
  "POST /api/meetings": { title: "made in the matrix" },
  "PUT /api/meetings/:id": { title: "renamed" },
  "POST /api/meetings/:id/join": {},
};

/** What the table says the caller gets: "allowed", or the status of the refusal. */
function expected(route: PolicyRoute, c: MatrixCaller): "allowed" | 401 | 403 | 404 {
  if (c.tenant === "none") return 401;
  const perMeeting = route.includes(":id");
  if (c.tenant === "other") {
    if (perMeeting) return 404;
    return allows(ROUTE_POLICY[route], c) ? "allowed" : 403;
  }
  return allows(ROUTE_POLICY[route], c) ? "allowed" : 403;
}

describe.each(BACKENDS.filter((b) => b.name === "pglite"))("the policy matrix on $name", (backend) => {
  let t: TestApp;
  let database: Database;
  appPerSuite(backend, async (app, db) => {
    database = db;
    t = app;
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });

  it("answers every route, caller and meeting state as the policy table says", async () => {
    const own = freshTenant();
    const other = freshTenant();
    const creatorToken = await userToken({ tenant: own, sub: "carla", role: "host", clock: t.clock });
    const tokenOf = async (c: MatrixCaller) =>
      c.tenant === "none"
        ? undefined
        : userToken({ tenant: c.tenant === "own" ? own : other, sub: c.sub, role: c.role, clock: t.clock });
    const mismatches: string[] = [];
    let cases = 0;
    const meetingIn = async (state: (typeof STATES)[number]) => {
      const created = await call(t, "POST", "/api/meetings", { token: creatorToken, body: { title: "m" } });
      const id = created.body.id as string;
      if (state !== "scheduled") await call(t, "POST", `/api/meetings/${id}/start`, { token: creatorToken });
      if (state === "ended") await call(t, "POST", `/api/meetings/${id}/end`, { token: creatorToken });
      await database.db.insert(participants).values({
        id: crypto.randomUUID(),
        tenantId: own,
        meetingId: id,
        userId: "ada",
        displayName: "Ada",
        status: "left",
      });
      return id;
    };
    // Reads share one meeting per state; a call that may change it (a permitted DELETE, end, PUT or join)
    // gets a fresh one, so no case sees another's effect.
    const shared = new Map<string, string>();
    for (const state of STATES) shared.set(state, await meetingIn(state));
    for (const route of Object.keys(ROUTE_POLICY) as PolicyRoute[]) {
      for (const state of STATES) {
        for (const caller of CALLERS) {
          const id = route.startsWith("GET ") ? shared.get(state)! : await meetingIn(state);
          await t.registry.upsert(host("host-a", { clock: t.clock }));
          const [method, pattern] = route.split(" ") as [string, string];
          const res = await call(t, method, pattern.replace(":id", id), {
            token: await tokenOf(caller),
            body: BODIES[route],
          });
          cases += 1;
          const want = expected(route, caller);
          const got = [401, 403, 404].includes(res.status)
            ? res.status
            : res.status < 500
              ? "allowed"
              : res.status;
          if (got !== want)
            mismatches.push(`${route} ${state} as ${caller.name}: want ${want}, got ${res.status}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(cases).toBe(Object.keys(ROUTE_POLICY).length * STATES.length * CALLERS.length);
  }, 180_000);
});

import { PageQuerySchema } from "@nexus/shared/rest/common";
import { JoinBodySchema } from "@nexus/shared/rest/join";
import {
  CreateMeetingBodySchema,
  ListMeetingsQuerySchema,
  UpdateMeetingBodySchema,
} from "@nexus/shared/rest/meetings";
import { ListMessagesQuerySchema } from "@nexus/shared/rest/messages";
import { ListParticipantsQuerySchema } from "@nexus/shared/rest/participants";
import { createTestDatabase, testPgUrl } from "@nexus/testkit";
import { arbitraryFor, ERROR_LEVEL, fuzzRuns, fuzzSeed, queryFor, rawFrame } from "@nexus/testkit/fuzz";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PolicyRoute, ROUTE_POLICY } from "../src/policy.js";
import {
  call,
  capturingLogger,
  freshTenant,
  host,
  makeApp,
  type TestApp,
  testConfig,
  userToken,
} from "./harness.js";

/**
 * Property-based fuzzing of the REST API from the shared schemas (issue 16): every route of the policy table
 * with bodies, queries and path ids the schemas generate (hostile leaves included) and raw bodies, as each
 * kind of caller, on real PostgreSQL. Whatever comes in: no 5xx, a typed error body, nothing logged at error
 * level; and afterwards the service still does its job.
 */
const SCHEMAS: Record<PolicyRoute, { body?: unknown; query?: unknown }> = {
  "GET /api/meetings": { query: ListMeetingsQuerySchema },
  "POST /api/meetings": { body: CreateMeetingBodySchema },
  "GET /api/meetings/:id": {},
  "PUT /api/meetings/:id": { body: UpdateMeetingBodySchema },
  "DELETE /api/meetings/:id": {},
  "POST /api/meetings/:id/start": {},
  "POST /api/meetings/:id/end": {},
  "POST /api/meetings/:id/join": { body: JoinBodySchema },
  "GET /api/meetings/:id/participants": { query: ListParticipantsQuerySchema },
  "GET /api/meetings/:id/stats": {},
  "GET /api/meetings/:id/messages": { query: ListMessagesQuerySchema },
  "GET /api/meetings/:id/recordings": { query: PageQuerySchema },
};
const ROUTES = Object.keys(ROUTE_POLICY) as PolicyRoute[];
/** Path segments sent without encoding: broken escapes, encoded NUL and slashes, dot segments. */
const RAW_IDS = ["%", "%zz", "%00", "%E0%A4%A", "..%2f..%2fetc", "%2e%2e", "a%2Fb", "%C0%AF", "%uD800"];
const wellFormed = (s: string) =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

/** Generous: the cases are counted, never timed; a loaded machine only makes them slower. */
const FUZZ_TIMEOUT_MS = 300_000;

describe("REST fuzzing", () => {
  let drop: () => Promise<void>;
  let t: TestApp;
  const log = capturingLogger("info");
  const tenant = freshTenant();
  const tokens: string[] = [];
  const ids: string[] = [];
  const counts = { cases: 0, byStatus: new Map<number, number>() };

  beforeAll(async () => {
    const db = await createTestDatabase(testPgUrl());
    drop = db.drop;
    t = makeApp(db.database, {
      config: testConfig({ MAX_OPEN_MEETINGS_PER_USER: "1000000" }),
      deps: { logger: log.logger },
    });
    await t.registry.upsert(host("host-a", { clock: t.clock }));
    for (const [sub, role, tn] of [
      ["ann", "host", tenant],
      ["bob", "member", tenant],
      ["root", "admin", tenant],
      ["eve", "admin", freshTenant()],
    ] as const) {
      tokens.push(await userToken({ tenant: tn, sub, role, clock: t.clock, ttl: 86_400 }));
    }
    for (const body of [
      { title: "plain" },
      { title: "guarded", password: "pw", lobby_enabled: true },
      { title: "live" },
    ]) {
      const res = await call(t, "POST", "/api/meetings", { token: tokens[0], body });
      ids.push(res.body.id);
    }
    await call(t, "POST", `/api/meetings/${ids[2]}/start`, { token: tokens[0] });
  });
  afterAll(async () => {
    await drop?.();
    const summary = [...counts.byStatus.entries()].sort(([a], [b]) => a - b);
    console.info(`REST fuzz: ${counts.cases} cases, statuses ${JSON.stringify(summary)}`);
  });

  const idArb = () =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...ids), weight: 4 },
      { arbitrary: fc.uuid(), weight: 1 },
      { arbitrary: arbitraryFor(PageQuerySchema.entries.cursor).map((v) => String(v ?? "")), weight: 1 },
    );
  const tokenArb = () =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...tokens), weight: 8 },
      { arbitrary: fc.constantFrom("", "x.y.z", tokens[0]!.slice(0, -2)), weight: 1 },
    );

  async function send(route: PolicyRoute, token: string, id: string, query: string, body: string | null) {
    const [method, pattern] = route.split(" ") as [string, string];
    // A raw id (RAW_IDS) goes in as it is; anything else is percent-encoded (lone surrogates as U+FFFD).
    const path = pattern.replace(":id", RAW_IDS.includes(id) ? id : encodeURIComponent(wellFormed(id)));
    const before = log.lines.length;
    const res = await t.app.request(`${path}${query ? `?${query}` : ""}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== null ? { "content-type": "application/json" } : {}),
      },
      body: method === "GET" ? undefined : (body ?? undefined),
    });
    const text = await res.text();
    counts.cases += 1;
    counts.byStatus.set(res.status, (counts.byStatus.get(res.status) ?? 0) + 1);
    const what = `${method} ${path}?${query} ${body?.slice(0, 300)} -> ${res.status} ${text.slice(0, 300)}`;
    expect(res.status, what).toBeLessThan(500);
    if (res.status >= 400) expect(JSON.parse(text).error.code, what).toEqual(expect.any(String));
    const errors = log.lines.slice(before).filter((l) => l.level >= ERROR_LEVEL);
    expect(errors, what).toEqual([]);
  }

  it("covers every route of the policy table", () => {
    expect(Object.keys(SCHEMAS).sort()).toEqual([...ROUTES].sort());
  });

  it(
    "answers generated bodies without a 5xx or an error log",
    async () => {
      const withBody = ROUTES.filter((r) => SCHEMAS[r].body);
      const bodyArb = fc.constantFrom(...withBody).chain((route) =>
        fc.tuple(
          fc.constant(route),
          tokenArb(),
          idArb(),
          fc.oneof(
            {
              arbitrary: arbitraryFor(SCHEMAS[route].body).map((v) => JSON.stringify(v) ?? "null"),
              weight: 5,
            },
            { arbitrary: rawFrame, weight: 1 },
          ),
        ),
      );
      await fc.assert(
        fc.asyncProperty(bodyArb, async ([route, token, id, body]) => send(route, token, id, "", body)),
        { seed: fuzzSeed(), numRuns: fuzzRuns(1200) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answers generated queries without a 5xx or an error log",
    async () => {
      const withQuery = ROUTES.filter((r) => SCHEMAS[r].query);
      const queryArb = fc
        .constantFrom(...withQuery)
        .chain((route) => fc.tuple(fc.constant(route), tokenArb(), idArb(), queryFor(SCHEMAS[route].query)));
      await fc.assert(
        fc.asyncProperty(queryArb, async ([route, token, id, query]) => send(route, token, id, query, null)),
        { seed: fuzzSeed(), numRuns: fuzzRuns(1200) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answers generated paths on every route without a 5xx or an error log",
    async () => {
      const pathArb = fc.tuple(
        fc.constantFrom(...ROUTES),
        tokenArb(),
        fc.oneof(idArb(), fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom(...RAW_IDS)),
      );
      await fc.assert(
        fc.asyncProperty(pathArb, async ([route, token, id]) => send(route, token, id, "", "{}")),
        { seed: fuzzSeed(), numRuns: fuzzRuns(800) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it("still creates, joins and reads afterwards", async () => {
    const created = await call(t, "POST", "/api/meetings", {
      token: tokens[0],
      body: { title: "after the storm" },
    });
    expect(created.status).toBe(201);
    await t.registry.upsert(host("host-a", { clock: t.clock }));
    const joined = await call(t, "POST", `/api/meetings/${created.body.id}/join`, {
      token: tokens[1],
      body: {},
    });
    expect(joined.status).toBe(200);
    expect(joined.body.join_token).toEqual(expect.any(String));
  });
});

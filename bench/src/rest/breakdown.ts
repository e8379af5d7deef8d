/**
 * Where a request's CPU goes: the per-request pieces of the control plane measured one at a time,
 * in process, as CPU microseconds per call (process.cpuUsage over a sequential loop, after a warmup).
 * It complements run.ts: run.ts says how much slower or faster, this says which piece costs what.
 *
 *   npm run bench:breakdown -- [--iterations 3000]
 */

import { parseArgs } from "node:util";
import { createUserVerifier } from "@nexus/control/auth";
import { loadControlConfig } from "@nexus/control/config";
import { createMetrics } from "@nexus/control/metrics";
import { loadMeeting } from "@nexus/control/services/meetings";
import { createMeetingQueries } from "@nexus/control/services/queries";
import { createDb, meetings } from "@nexus/drizzle";
import { createLogger } from "@nexus/platform";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import { createTestDatabase, startPostgres } from "@nexus/testkit";
import { and, eq, sql } from "drizzle-orm";
import { jwtVerify, SignJWT } from "jose";
import pg from "pg";
import { LOAD_CPUS, pinSelf, SERVER_CPUS } from "../proc.js";

const { values: args } = parseArgs({ options: { iterations: { type: "string", default: "3000" } } });
const N = Number(args.iterations);
const SECRET = "bench-jwt-secret-0123456789abcdef0123456789";
const TENANT = "bench-tenant";

async function cpuPerCall(fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(500, N); i++) await fn();
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) await fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / N;
}

async function main() {
  // The loop is the "server" here; PostgreSQL goes to the other core like in run.ts.
  pinSelf(LOAD_CPUS);
  const server = await startPostgres();
  const t = await createTestDatabase(server.url);
  pinSelf(SERVER_CPUS);
  const database = createDb(t.url);
  const pool = new pg.Pool({ connectionString: t.url, max: 10 });
  const rows: [string, number][] = [];
  try {
    const id = crypto.randomUUID();
    await pool.query(
      `insert into meetings (id, tenant_id, title, settings, created_by) values ($1, $2, 'x', '{}', 'u')`,
      [id, TENANT],
    );
    const nowS = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenant_id: TENANT, role: "host" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject("bench-user")
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 3600)
      .sign(new TextEncoder().encode(SECRET));

    const config = loadControlConfig({
      NODE_ENV: "production",
      JWT_SECRET: SECRET,
      JOIN_TOKEN_SECRET: `${SECRET}-join`,
      // The bench creates far more meetings as one user than anyone should.
      MAX_OPEN_MEETINGS_PER_USER: "1000000",
      DATABASE_URL: t.url,
      LOG_LEVEL: "silent",
      LOG_DIR: "-",
    });
    const verifier = createUserVerifier(config.auth);
    const keyBytes = new TextEncoder().encode(SECRET);
    const cryptoKey = await crypto.subtle.importKey(
      "raw",
      keyBytes,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const opts = { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] };
    rows.push([
      "jose jwtVerify HS256, key as bytes (both servers)",
      await cpuPerCall(() => jwtVerify(token, keyBytes, opts)),
    ]);
    rows.push([
      "jose jwtVerify HS256, CryptoKey imported once",
      await cpuPerCall(() => jwtVerify(token, cryptoKey, opts)),
    ]);
    rows.push([
      "control verifier (jose + claim mapping + valibot)",
      await cpuPerCall(() => verifier.verify(token, new Date())),
    ]);

    const queries = createMeetingQueries(database.db);
    const cols =
      "id, tenant_id, title, description, status, scheduled_start, scheduled_end, started_at, ended_at, max_participants, is_public, lobby_enabled, locked, password_hash, settings, created_by, media_host_id, created_at, updated_at";
    rows.push([
      "select by id: raw pg.query (baseline)",
      await cpuPerCall(() =>
        pool.query(`select ${cols} from meetings where tenant_id = $1 and id = $2 limit 1`, [TENANT, id]),
      ),
    ]);
    rows.push([
      "select by id: control loadMeeting (ours, prepared per app)",
      await cpuPerCall(() => loadMeeting(queries, TENANT, id)),
    ]);
    const prepared = database.db
      .select()
      .from(meetings)
      .where(and(eq(meetings.tenantId, sql.placeholder("t")), eq(meetings.id, sql.placeholder("id"))))
      .limit(1)
      .prepare("bench_load_meeting");
    rows.push([
      "select by id: drizzle .prepare()d once",
      await cpuPerCall(() => prepared.execute({ t: TENANT, id })),
    ]);

    const insertRaw = () =>
      pool.query(
        `insert into meetings (id, tenant_id, title, description, status, max_participants, is_public, lobby_enabled, settings, created_by, created_at, updated_at)
         values ($1, $2, 'Bench', null, 'scheduled', 25, false, true, $3, 'u', $4, $4) returning ${cols}`,
        [crypto.randomUUID(), TENANT, JSON.stringify(DEFAULT_MEETING_SETTINGS), new Date()],
      );
    rows.push(["insert returning: raw pg.query (baseline)", await cpuPerCall(insertRaw)]);
    const insertDrizzle = () => {
      const at = new Date();
      return database.db
        .insert(meetings)
        .values({
          id: crypto.randomUUID(),
          tenantId: TENANT,
          title: "Bench",
          description: null,
          status: "scheduled",
          scheduledStart: null,
          scheduledEnd: null,
          maxParticipants: 25,
          isPublic: false,
          lobbyEnabled: true,
          passwordHash: null,
          settings: { ...DEFAULT_MEETING_SETTINGS },
          createdBy: "u",
          createdAt: at,
          updatedAt: at,
        })
        .returning();
    };
    rows.push(["insert returning: drizzle built per call", await cpuPerCall(insertDrizzle)]);
    rows.push([
      "insert returning: control queries.insert (ours, prepared per app)",
      await cpuPerCall(() =>
        queries.insert({
          id: crypto.randomUUID(),
          tenantId: TENANT,
          title: "Bench",
          description: null,
          scheduledStart: null,
          scheduledEnd: null,
          maxParticipants: 25,
          isPublic: false,
          lobbyEnabled: true,
          passwordHash: null,
          settings: { ...DEFAULT_MEETING_SETTINGS },
          createdBy: "u",
          at: new Date(),
        }),
      ),
    ]);

    const logger = createLogger({ name: "control", level: "silent", dir: null });
    rows.push([
      "pino: 2 child loggers + 2 info calls at level silent",
      await cpuPerCall(() => {
        const log = logger.child({ request_id: "r" }).child({ tenant_id: TENANT, user_id: "u" });
        log.info({ meeting_id: id }, "meeting created");
        log.info({ method: "GET", path: "/x", status: 200, ms: 1 }, "request");
      }),
    ]);
    const metrics = createMetrics();
    rows.push([
      "prom-client: counter inc + histogram observe (labels)",
      await cpuPerCall(() => {
        const labels = { method: "GET", route: "/api/meetings/:id", status: "200" };
        metrics.httpRequests.inc(labels);
        metrics.httpDuration.observe(labels, 0.004);
      }),
    ]);
    const headers = {
      host: "127.0.0.1",
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
    };
    rows.push([
      "undici Request built for a GET (what reading c.req.raw.body costs)",
      await cpuPerCall(() => {
        const ac = new AbortController();
        return new Request(`http://127.0.0.1/api/meetings/${id}`, {
          method: "GET",
          headers,
          signal: ac.signal,
        });
      }),
    ]);
    const body = JSON.stringify({ title: "Bench standup", max_participants: 25, lobby_enabled: true });
    rows.push([
      "undici Request + ReadableStream body + .json() (a POST)",
      await cpuPerCall(async () => {
        const ac = new AbortController();
        const stream = new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(body));
            c.close();
          },
        });
        const req = new Request("http://127.0.0.1/api/meetings", {
          method: "POST",
          headers,
          body: stream,
          signal: ac.signal,
          duplex: "half",
        } as RequestInit);
        return req.json();
      }),
    ]);
    rows.push([
      "JSON.parse of the same body (Express body-parser's core)",
      await cpuPerCall(() => JSON.parse(body)),
    ]);
  } finally {
    await pool.end();
    await database.close();
    await t.drop();
    await server.stop();
  }
  console.log(`CPU per call, µs (${N} sequential calls after warmup; database calls include pg's own CPU):`);
  for (const [name, us] of rows) console.log(`  ${us.toFixed(1).padStart(8)}  ${name}`);
}

await main();

/**
 * REST benchmark: our control plane (Hono on @hono/node-server, control/src/entry/node.ts) against a
 * minimal Express 5 + pg baseline, same PostgreSQL database, same JWT check, same run.
 *
 *   npm run bench:rest -- [--duration 10] [--connections 50] [--rounds 3] [--warmup 3] [--only get|post]
 *                         [--targets ours,express,hono-minimal] [--profile]   (writes bench/.profiles/<server>-r<round>.cpuprofile and summarizes them)
 *
 * Each round starts each server fresh (ours, express, ours, express, ...), warms it up, then loads
 * GET /api/meetings/:id and POST /api/meetings with autocannon in its own process. The server is pinned
 * to BENCH_SERVER_CPUS (default 0); the load generator and PostgreSQL to BENCH_LOAD_CPUS (default 1).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestDatabase, freePort, startPostgres } from "@nexus/testkit";
import { SignJWT } from "jose";
import pg from "pg";
import { BENCH_DIR, bundle, REPO_DIR } from "../build.js";
import {
  cpuMs,
  HAVE_TASKSET,
  LOAD_CPUS,
  median,
  pinned,
  pinSelf,
  run,
  SERVER_CPUS,
  stopChild,
  until,
} from "../proc.js";
import { formatSummary, summarize } from "../profile.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    only: { type: "string" },
    targets: { type: "string" },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);

const SECRET = "bench-jwt-secret-0123456789abcdef0123456789";
const TENANT = "bench-tenant";
const AUTOCANNON = join(
  createRequire(import.meta.url).resolve("autocannon/package.json"),
  "..",
  "autocannon.js",
);
const PROFILE_DIR = join(BENCH_DIR, ".profiles");

type Target = "ours" | "express" | "hono-minimal";
/** ours and express are the comparison; hono-minimal (baseline handlers on Hono) explains the gap. */
const TARGETS = (args.targets?.split(",") ?? ["ours", "express", "hono-minimal"]) as Target[];
for (const t of TARGETS)
  if (!["ours", "express", "hono-minimal"].includes(t)) throw new Error(`--targets: unknown server ${t}`);
if (!TARGETS.includes("ours") || !TARGETS.includes("express"))
  throw new Error("--targets must include ours and express");
type Scenario = "GET /api/meetings/:id" | "POST /api/meetings";
const SCENARIOS = (["GET /api/meetings/:id", "POST /api/meetings"] as Scenario[]).filter(
  (s) => !args.only || s.toLowerCase().startsWith(args.only.toLowerCase()),
);
if (SCENARIOS.length === 0) throw new Error(`--only ${args.only}: no such scenario (get, post)`);

type Results = Record<Target, Record<Scenario, Sample[]>>;

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Server CPU per answered request, in microseconds. */
  cpuUs: number;
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function autocannon(url: string, scenario: Scenario, token: string, seconds: number) {
  const argv = ["node", AUTOCANNON, "-j", "-c", String(CONNECTIONS), "-d", String(seconds)];
  argv.push("-H", `Authorization=Bearer ${token}`);
  if (scenario.startsWith("POST")) {
    argv.push("-m", "POST", "-H", "Content-Type=application/json");
    argv.push("-b", JSON.stringify({ title: "Bench standup", max_participants: 25, lobby_enabled: true }));
  }
  argv.push(url);
  const out = await run(pinned(LOAD_CPUS, argv), { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`autocannon failed (${out.code}): ${out.stderr.slice(-500)}`);
  return JSON.parse(out.stdout) as AutocannonJson;
}

interface Server {
  child: ChildProcess;
  base: string;
}

async function startServer(target: Target, file: string, databaseUrl: string, tag: string): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    JWT_SECRET: SECRET,
    JOIN_TOKEN_SECRET: `${SECRET}-join`,
    // The bench creates far more meetings as one user than anyone should.
    MAX_OPEN_MEETINGS_PER_USER: "1000000",
    // Logging off in both: ours at level silent, the baseline has no logger.
    LOG_LEVEL: "silent",
    LOG_DIR: "-",
    MIGRATE_ON_BOOT: "0",
  };
  const node = ["node"];
  if (args.profile) {
    node.push("--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${tag}.cpuprofile`);
  }
  const argv = pinned(SERVER_CPUS, [...node, file]);
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(
      `${target} /health`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${target} exited with ${child.exitCode}`);
        return (await fetch(`${base}/health`)).ok ? true : undefined;
      },
      20_000,
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { child, base };
}

/** Both servers must answer the same thing, or the comparison is meaningless. */
async function checkAnswers(base: string, meetingId: string, token: string): Promise<string[]> {
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const got = await fetch(`${base}/api/meetings/${meetingId}`, { headers });
  const posted = await fetch(`${base}/api/meetings`, {
    method: "POST",
    headers,
    body: JSON.stringify({ title: "Shape check" }),
  });
  if (got.status !== 200 || posted.status !== 201)
    throw new Error(`unexpected status: GET ${got.status}, POST ${posted.status}`);
  const a = (await got.json()) as Record<string, unknown>;
  const b = (await posted.json()) as Record<string, unknown>;
  if (a.id !== meetingId || b.tenant_id !== TENANT) throw new Error("answer does not carry the meeting");
  return Object.keys(a).sort();
}

async function main() {
  // PostgreSQL inherits this affinity, so it shares the load generator's core, not the server's.
  pinSelf(LOAD_CPUS);
  console.log(
    `REST benchmark: ${CONNECTIONS} connections, ${DURATION}s per run, ${ROUNDS} rounds, warmup ${WARMUP}s; ` +
      (HAVE_TASKSET
        ? `server on CPU ${SERVER_CPUS}, autocannon + PostgreSQL on CPU ${LOAD_CPUS}`
        : "no taskset: nothing pinned"),
  );

  const entries: Record<Target, string> = {
    ours: join(REPO_DIR, "control/src/entry/node.ts"),
    express: join(BENCH_DIR, "src/rest/express-baseline.ts"),
    "hono-minimal": join(BENCH_DIR, "src/rest/hono-minimal.ts"),
  };
  const builds = {} as Record<Target, string>;
  for (const t of TARGETS) builds[t] = await bundle(entries[t], `${t}.mjs`, { external: "third-party" });

  // A profile of an earlier run would be summarized as if it were this one's.
  if (args.profile) rmSync(PROFILE_DIR, { recursive: true, force: true });

  const server = await startPostgres();
  const testDb = await createTestDatabase(server.url);
  const pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
  const results = Object.fromEntries(
    TARGETS.map((t) => [t, Object.fromEntries(SCENARIOS.map((s) => [s, [] as Sample[]]))]),
  ) as Results;
  const shapes: Partial<Record<Target, string[]>> = {};
  try {
    const meetingId = crypto.randomUUID();
    await pool.query(
      `insert into meetings (id, tenant_id, title, description, settings, created_by, max_participants)
       values ($1, $2, 'Weekly sync', 'The benchmark reads this one', '{"allow_chat": true}', 'bench-user', 50)`,
      [meetingId, TENANT],
    );
    const nowS = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenant_id: TENANT, role: "host", name: "Bench User" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject("bench-user")
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 6 * 3600)
      .sign(new TextEncoder().encode(SECRET));

    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of TARGETS) {
        const srv = await startServer(target, builds[target], testDb.url, `${target}-r${round}`);
        try {
          shapes[target] = await checkAnswers(srv.base, meetingId, token);
          if (WARMUP > 0) {
            const first = SCENARIOS[0]!;
            const url = first.startsWith("GET")
              ? `${srv.base}/api/meetings/${meetingId}`
              : `${srv.base}/api/meetings`;
            await autocannon(url, first, token, WARMUP);
          }
          for (const scenario of SCENARIOS) {
            const url = scenario.startsWith("GET")
              ? `${srv.base}/api/meetings/${meetingId}`
              : `${srv.base}/api/meetings`;
            const cpuBefore = cpuMs(srv.child.pid!);
            const r = await autocannon(url, scenario, token, DURATION);
            const cpu = cpuMs(srv.child.pid!) - cpuBefore;
            const sample: Sample = {
              rps: r.requests.average,
              p50: r.latency.p50,
              p99: r.latency.p99,
              requests: r.requests.total,
              non2xx: r.non2xx,
              errors: r.errors + r.timeouts,
              cpuUs: r.requests.total ? (cpu * 1000) / r.requests.total : 0,
            };
            results[target][scenario].push(sample);
            console.log(
              `  round ${round} ${target.padEnd(7)} ${scenario.padEnd(22)} ${sample.rps.toFixed(0).padStart(6)} req/s` +
                `  p50 ${sample.p50} ms  p99 ${sample.p99} ms  cpu ${sample.cpuUs.toFixed(0)} µs/req` +
                (sample.non2xx || sample.errors ? `  NON-2XX ${sample.non2xx} ERRORS ${sample.errors}` : ""),
            );
          }
        } finally {
          await stopChild(srv.child);
        }
      }
    }
  } finally {
    await pool.end();
    await testDb.drop();
    await server.stop();
  }

  for (const t of TARGETS)
    if (JSON.stringify(shapes[t]) !== JSON.stringify(shapes.ours))
      console.log(`WARNING: answer shapes differ:\n  ours ${shapes.ours}\n  ${t} ${shapes[t]}`);

  const report = summarizeResults(results);
  console.log(`\n${report}`);

  const stamp = new Date().toISOString();
  const outDir = join(BENCH_DIR, ".results");
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `rest-${stamp.replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    outFile,
    JSON.stringify(
      { at: stamp, connections: CONNECTIONS, duration: DURATION, rounds: ROUNDS, results },
      null,
      2,
    ),
  );
  console.log(`\nraw samples: ${outFile}`);

  if (args.profile) {
    // Warmup and every scenario of the round are in one profile; use --only to profile one route.
    for (const file of readdirSync(PROFILE_DIR)
      .filter((f) => f.endsWith(".cpuprofile"))
      .sort()) {
      console.log(`\n${formatSummary(file, summarize(join(PROFILE_DIR, file)))}`);
    }
  }
}

function summarizeResults(results: Results): string {
  const lines: string[] = [];
  const spread = (xs: number[]) => {
    const m = median(xs);
    return m ? `±${(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100).toFixed(1)}%` : "-";
  };
  lines.push(
    "scenario                target        req/s (median, spread, min-max)   p50 ms  p99 ms (median, max)  server µs/req",
  );
  for (const scenario of SCENARIOS) {
    for (const target of TARGETS) {
      const s = results[target][scenario];
      const rps = s.map((x) => x.rps);
      lines.push(
        `${scenario.padEnd(23)} ${target.padEnd(13)} ${median(rps).toFixed(0).padStart(6)} ${spread(rps).padStart(7)}` +
          `  ${Math.min(...rps).toFixed(0)}-${Math.max(...rps).toFixed(0)}`.padEnd(17) +
          `${String(median(s.map((x) => x.p50))).padStart(9)}  ${String(median(s.map((x) => x.p99))).padStart(6)}, ${Math.max(...s.map((x) => x.p99))}`.padEnd(
            24,
          ) +
          `${median(s.map((x) => x.cpuUs))
            .toFixed(0)
            .padStart(12)}`,
      );
    }
    const ours = results.ours[scenario];
    const base = results.express[scenario];
    const ratio = median(ours.map((x) => x.rps)) / median(base.map((x) => x.rps));
    const cpuRatio = median(ours.map((x) => x.cpuUs)) / median(base.map((x) => x.cpuUs));
    const p99 = median(ours.map((x) => x.p99));
    const failures = [...ours, ...base].reduce((n, x) => n + x.non2xx + x.errors, 0);
    lines.push(
      `  ratio ours/express: ${ratio.toFixed(2)}x req/s, ${cpuRatio.toFixed(2)}x the server CPU per request; ` +
        `target >= 2x req/s ${ratio >= 2 ? "MET" : "NOT MET"}, p99 < 20 ms ${p99 < 20 ? "MET" : "NOT MET"} (${p99} ms)` +
        (failures ? `; ${failures} non-2xx/errors` : ""),
    );
    const minimal = results["hono-minimal"]?.[scenario];
    if (minimal) {
      const r = median(minimal.map((x) => x.rps)) / median(base.map((x) => x.rps));
      lines.push(`  ratio hono-minimal/express: ${r.toFixed(2)}x req/s (same handlers, framework only)`);
    }
  }
  return lines.join("\n");
}

await main();

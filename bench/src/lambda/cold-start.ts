/**
 * Lambda cold start of control/src/entry/lambda.ts: a fresh `node` process per sample imports the
 * handler and answers one API Gateway v2 event (GET /api/meetings/:id, so the first database connection
 * is included) against a real PostgreSQL.
 *
 *   npm run bench:lambda -- [--samples 10]
 *
 * Measured three ways: the TypeScript source through tsx (as in development); the esbuild bundle made the
 * way control/README.md says (everything inlined, PGlite included), run by plain node; and the earlier
 * README command with PGlite external, for comparison. Each bundle is also run from a directory outside
 * the repository, as it would be from a Lambda zip.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestDatabase, startPostgres } from "@nexus/testkit";
import { SignJWT } from "jose";
import pg from "pg";
import { BENCH_DIR, bundle, REPO_DIR } from "../build.js";
import { median, run } from "../proc.js";

const { values: args } = parseArgs({ options: { samples: { type: "string", default: "10" } } });
const SAMPLES = Number(args.samples);
const SECRET = "bench-jwt-secret-0123456789abcdef0123456789";
const TENANT = "bench-tenant";
const PROBE = join(BENCH_DIR, "src/lambda/probe.mjs");
const TSX = join(REPO_DIR, "node_modules/tsx/dist/esm/index.mjs");

interface Probe {
  start_ms: number;
  import_ms: number;
  first_answer_ms: number;
  total_ms: number;
  status: number;
  id: string;
}
interface Sample extends Probe {
  /** Parent clock: spawn of the process to its answer line, node's own boot included. */
  wall_ms: number;
}

async function sample(argv: string[], env: NodeJS.ProcessEnv, meetingId: string): Promise<Sample> {
  const t0 = performance.now();
  const out = await run(argv, { env, timeoutMs: 60_000 });
  const wall = performance.now() - t0;
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !line.startsWith("{"))
    throw new Error(`probe failed (${out.code}): ${out.stderr.slice(-800)}`);
  const probe = JSON.parse(line) as Probe;
  if (probe.status !== 200 || probe.id !== meetingId) throw new Error(`cold start answered ${probe.status}`);
  return { ...probe, wall_ms: wall };
}

/** The deployed zip holds only the bundle: does it load without the repository's node_modules? */
async function loadsAlone(bundleFile: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Outside the repo tree so node cannot find node_modules by walking up.
  const isolated = `/tmp/nexus-bench-lambda-${process.pid}`;
  rmSync(isolated, { recursive: true, force: true });
  mkdirSync(isolated);
  copyFileSync(bundleFile, join(isolated, "index.mjs"));
  copyFileSync(PROBE, join(isolated, "probe.mjs"));
  try {
    const out = await run(["node", join(isolated, "probe.mjs"), join(isolated, "index.mjs")], {
      env,
      timeoutMs: 60_000,
    });
    if (out.code === 0) return "yes";
    const reason = /Cannot find (?:package|module) '([^']+)'/.exec(out.stderr)?.[1];
    return reason ? `no: cannot find package '${reason}'` : `no: ${out.stderr.trim().split("\n")[0]}`;
  } finally {
    rmSync(isolated, { recursive: true, force: true });
  }
}

async function main() {
  const bundled = await bundle(join(REPO_DIR, "control/src/entry/lambda.ts"), "lambda/index.mjs", {
    external: "none",
    // The earlier README command. It cannot load from a zip: drizzle-orm/pglite, bundled, imports PGlite
    // statically, so the external import is hoisted to the bundle's top whatever createDb does.
    alsoExternal: ["@electric-sql/pglite"],
  });
  // As control/README.md bundles it now: nothing external.
  const selfContained = await bundle(
    join(REPO_DIR, "control/src/entry/lambda.ts"),
    "lambda-self-contained/index.mjs",
    { external: "none" },
  );
  const server = await startPostgres();
  const testDb = await createTestDatabase(server.url);
  try {
    const pool = new pg.Pool({ connectionString: testDb.url, max: 1 });
    const meetingId = crypto.randomUUID();
    await pool.query(
      `insert into meetings (id, tenant_id, title, settings, created_by) values ($1, $2, 'Cold', '{}', 'bench-user')`,
      [meetingId, TENANT],
    );
    await pool.end();
    const nowS = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenant_id: TENANT, role: "host" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("bench-user")
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 3600)
      .sign(new TextEncoder().encode(SECRET));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      DATABASE_URL: testDb.url,
      JWT_SECRET: SECRET,
      JOIN_TOKEN_SECRET: `${SECRET}-join`,
      LOG_LEVEL: "silent",
      LOG_DIR: "-",
      BENCH_MEETING_ID: meetingId,
      BENCH_TOKEN: token,
    };
    const variants = {
      "tsx source (control/src/entry/lambda.ts)": [
        "node",
        "--import",
        TSX,
        PROBE,
        join(REPO_DIR, "control/src/entry/lambda.ts"),
      ],
      "esbuild bundle as in control/README, node": ["node", PROBE, selfContained],
      "esbuild bundle, PGlite external (old), node": ["node", PROBE, bundled],
    };
    const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    // Alternate the variants so a burst of load elsewhere on the machine hits both alike.
    for (let i = 0; i < SAMPLES; i++) {
      for (const [name, argv] of Object.entries(variants)) {
        samples[name]!.push(await sample(argv, env, meetingId));
      }
    }
    console.log(
      `Lambda cold start, median of ${SAMPLES} fresh processes (GET /api/meetings/:id, real PostgreSQL):`,
    );
    console.log(
      "variant                                      spawn->answer  import  first answer  (min-max spawn->answer)",
    );
    for (const [name, s] of Object.entries(samples)) {
      const wall = s.map((x) => x.wall_ms);
      console.log(
        `${name.padEnd(44)} ${median(wall).toFixed(0).padStart(9)} ms ${median(s.map((x) => x.import_ms))
          .toFixed(0)
          .padStart(5)} ms` +
          ` ${median(s.map((x) => x.first_answer_ms))
            .toFixed(0)
            .padStart(9)} ms    ${Math.min(...wall).toFixed(0)}-${Math.max(...wall).toFixed(0)} ms`,
      );
    }
    console.log(
      `README bundle loads outside the repository (no node_modules): ${await loadsAlone(selfContained, env)}`,
    );
    console.log(
      `old bundle with PGlite external loads outside the repository: ${await loadsAlone(bundled, env)}`,
    );
  } finally {
    await testDb.drop();
    await server.stop();
  }
}

await main();

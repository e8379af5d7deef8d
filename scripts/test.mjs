#!/usr/bin/env node
// The one test command (`npm test`, after the pretest setup): lint and format check, typecheck, then every
// workspace's tests in sequence against one shared PostgreSQL and Redis. Fails if any step fails and ends
// with the line `Tests: N passed, N failed`.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (message) => console.log(`[test ${elapsed()}] ${message}`);
const bin = (name) => join(root, "node_modules", ".bin", name);

// A package's test run that never ends must not hang CI forever.
const PACKAGE_TIMEOUT_MS = Number(process.env.NEXUS_TEST_PACKAGE_TIMEOUT_MS ?? 30 * 60_000);

/** Runs a command in its own process group (so a timeout kills its servers too) with inherited output. */
function run(command, args, { cwd = root, env = process.env, timeoutMs = PACKAGE_TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "inherit", "inherit"], detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`[test] ${command} ${args.join(" ")} still running after ${timeoutMs} ms: killing it`);
      // SIGTERM first so vitest can stop the servers its global setup started; SIGKILL if it does not.
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 15_000).unref();
    }, timeoutMs);
    const forward = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {}
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", (err) => {
      console.error(`[test] cannot run ${command}: ${err.message}`);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve({ ok: code === 0 && !timedOut, code, signal, timedOut });
    });
  });
}

const steps = [];
const record = (name, ok) => {
  steps.push({ name, ok });
  log(`${ok ? "ok" : "FAILED"}: ${name}`);
};

/** Workspaces in the order package.json lists them (dependencies first). */
function workspaces() {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return (pkg.workspaces ?? [])
    .map((dir) => ({ dir, path: join(root, dir) }))
    .filter((w) => existsSync(join(w.path, "package.json")))
    .map((w) => ({ ...w, pkg: JSON.parse(readFileSync(join(w.path, "package.json"), "utf8")) }))
    .filter((w) => w.pkg.scripts?.test);
}

/**
 * Counts from vitest's JSON report. A file that failed to load has no assertions but is a failure, as is a
 * run that crashed before writing its report.
 */
function countResults(reportPath, runOk) {
  if (!existsSync(reportPath)) return { passed: 0, failed: runOk ? 0 : 1, skipped: 0 };
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  let failed = report.numFailedTests ?? 0;
  for (const file of report.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).every((a) => a.status !== "failed"))
      failed++;
  }
  if (!runOk && failed === 0) failed = 1;
  return {
    passed: report.numPassedTests ?? 0,
    failed,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
}

/** One PostgreSQL and one Redis for every package, instead of one pair per vitest run. */
async function startSharedServers() {
  const { tsImport } = await import(
    pathToFileURL(join(root, "node_modules", "tsx", "dist", "esm", "api", "index.mjs")).href
  );
  const testkit = await tsImport(join(root, "testkit", "src", "index.ts"), import.meta.url);
  const [pg, redis] = await Promise.all([testkit.usePostgresUrl(), testkit.useRedisUrl()]);
  process.env[testkit.TEST_PG_URL_ENV] = pg.url;
  process.env[testkit.TEST_REDIS_URL_ENV] = redis.url;
  log(`PostgreSQL ${pg.url}, Redis ${redis.url}`);
  return async () => {
    await Promise.allSettled([pg.stop(), redis.stop()]);
  };
}

async function exportWorkerBin() {
  const script = join(root, "scripts", "setup-worker.mjs");
  if (process.env.MEDIASOUP_WORKER_BIN || !existsSync(script)) return;
  const { ensureWorker } = await import(pathToFileURL(script).href);
  const workerBin = await ensureWorker({ log: (m) => log(`worker: ${m}`), exportEnv: true });
  process.env.MEDIASOUP_WORKER_BIN = workerBin;
}

async function main() {
  const env = { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? "1" : "0") };

  log("biome check . (lint + format)");
  record("lint (biome check .)", (await run(bin("biome"), ["check", "."], { env })).ok);
  // No import circles in the product code (type-only imports included): each package's files stack.
  log("dpdm (import circles in the product code)");
  // The package list lives once, in package.json's check:circles script.
  record("import circles (dpdm)", (await run("npm", ["run", "--silent", "check:circles"], { env })).ok);

  // One tsc pass over every workspace: sources are imported across packages as .ts, so per-package runs
  // (`npm run typecheck`, through turbo) re-check the shared code once per dependant, several times slower.
  log("tsc -p tsconfig.all.json (typecheck of every workspace)");
  record(
    "typecheck (tsc -p tsconfig.all.json)",
    (await run(bin("tsc"), ["-p", "tsconfig.all.json"], { env })).ok,
  );

  let totals = { passed: 0, failed: 0, skipped: 0 };
  let stopServers = async () => {};
  try {
    stopServers = await startSharedServers();
  } catch (err) {
    log(`cannot start the test servers: ${err instanceof Error ? err.message : String(err)}`);
    record("test servers (PostgreSQL, Redis)", false);
  }
  try {
    await exportWorkerBin();
  } catch (err) {
    log(`WARNING: no mediasoup worker: ${err instanceof Error ? err.message : String(err)}`);
  }

  const reports = mkdtempSync(join(tmpdir(), "nexus-test-reports-"));
  try {
    // In sequence: the media tests are CPU-heavy and would starve everything else on a small machine.
    for (const w of workspaces()) {
      const script = w.pkg.scripts.test;
      log(`${w.dir}: ${script}`);
      const childEnv = { ...env, ...process.env, FORCE_COLOR: env.FORCE_COLOR };
      if (/^vitest(\s|$)/.test(script)) {
        const reportPath = join(reports, `${w.dir}.json`);
        const args = [
          "run",
          "test",
          "--",
          "--reporter=default",
          "--reporter=json",
          `--outputFile=${reportPath}`,
        ];
        const result = await run("npm", args, { cwd: w.path, env: childEnv });
        const counts = countResults(reportPath, result.ok);
        totals = {
          passed: totals.passed + counts.passed,
          failed: totals.failed + counts.failed,
          skipped: totals.skipped + counts.skipped,
        };
        log(
          `${w.dir}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ""}`,
        );
        record(`tests of ${w.dir}`, result.ok && counts.failed === 0);
      } else {
        // Not vitest: no per-test counts, the package counts as one test.
        const result = await run("npm", ["run", "test"], { cwd: w.path, env: childEnv });
        totals = result.ok
          ? { ...totals, passed: totals.passed + 1 }
          : { ...totals, failed: totals.failed + 1 };
        record(`tests of ${w.dir}`, result.ok);
      }
    }
  } finally {
    rmSync(reports, { recursive: true, force: true });
    await stopServers();
  }

  const failedSteps = steps.filter((s) => !s.ok);
  console.log("");
  for (const s of steps) console.log(`${s.ok ? "  ok    " : "  FAILED"} ${s.name}`);
  if (totals.skipped) console.log(`(${totals.skipped} skipped or todo)`);
  console.log(
    `finished in ${elapsed()}${failedSteps.length ? `, ${failedSteps.length} step(s) failed` : ""}`,
  );
  console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed`);
  process.exitCode = failedSteps.length === 0 && totals.failed === 0 ? 0 : 1;
}

await main();

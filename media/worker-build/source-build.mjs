// Offline build of mediasoup-worker: copies the worker sources of the mediasoup
// npm package into the cache, overlays the shims (subprojects/) and patches
// (patches/) of this directory, then runs meson and ninja with progress lines.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { ensureBuildDeps } from "./build-deps.mjs";
import { BIN_NAME, cacheRoot, WORKER_BUILD_DIR } from "./cache.mjs";
import { defaultLog, formatDuration, runChecked } from "./run.mjs";

/**
 * Builds mediasoup-worker from the sources in the mediasoup npm package, in a
 * copy under the cache (node_modules is never modified), and returns the path
 * of the built binary. The copy is kept so an interrupted build resumes.
 */
export async function buildFromSource({ entry, msDir, env = process.env, log = defaultLog }) {
  log("stage 1/4: checking build dependencies");
  await ensureBuildDeps({ log });

  const workRoot = join(cacheRoot(env), "build", entry.key);
  const marker = join(workRoot, "prepared.json");
  const resumed = existsSync(marker);
  try {
    return await compileIn(workRoot, { msDir, env, log });
  } catch (err) {
    if (!resumed) throw err;
    // Leftovers of an interrupted run can be inconsistent in ways ninja does
    // not notice; one clean attempt settles whether the failure is real.
    log(`build in the reused directory failed (${err.message.split("\n")[0]}); retrying from a clean copy`);
    rmSync(workRoot, { recursive: true, force: true });
    return compileIn(workRoot, { msDir, env, log });
  }
}

async function compileIn(workRoot, { msDir, env, log }) {
  log("stage 2/4: preparing sources (copy, shims, patches)");
  const src = join(workRoot, "worker");
  const marker = join(workRoot, "prepared.json");
  if (!existsSync(marker)) {
    rmSync(workRoot, { recursive: true, force: true });
    mkdirSync(workRoot, { recursive: true });
    prepareSources({ from: join(msDir, "worker"), to: src, log });
    writeFileSync(marker, JSON.stringify({ preparedAt: new Date().toISOString() }));
  } else {
    log(`resuming in ${src}`);
  }

  const buildDir = join(src, "build");
  const logFile = join(workRoot, "build.log");
  if (!existsSync(join(buildDir, "build.ninja"))) {
    log("stage 3/4: configuring with meson");
    rmSync(buildDir, { recursive: true, force: true });
    await runChecked(
      "meson",
      ["setup", "build", "--wrap-mode=nodownload", "--buildtype=release", "-Db_ndebug=true"],
      { cwd: src, env: process.env, log, logFile },
    );
  } else {
    log("stage 3/4: already configured");
  }

  log("stage 4/4: compiling mediasoup-worker with ninja (several minutes on 2 cores)");
  const ninjaArgs = ["-C", "build", BIN_NAME];
  if (env.NEXUS_BUILD_JOBS) ninjaArgs.unshift("-j", String(Number(env.NEXUS_BUILD_JOBS)));
  const started = Date.now();
  let lastReport = 0;
  let lastPct = -1;
  await runChecked("ninja", ninjaArgs, {
    cwd: src,
    env: { ...process.env, NINJA_STATUS: "[%f/%t] " },
    log,
    logFile,
    onLine(line) {
      const m = line.match(/^\[(\d+)\/(\d+)\]/);
      if (!m) return;
      const done = Number(m[1]);
      const total = Number(m[2]);
      const pct = Math.floor((done / total) * 100);
      if (Date.now() - lastReport >= 15_000 || pct >= lastPct + 10 || done === total) {
        log(`compiling: ${done}/${total} steps (${pct}%), ${formatDuration(Date.now() - started)} in ninja`);
        lastReport = Date.now();
        lastPct = pct;
      }
    },
  });
  const bin = join(buildDir, BIN_NAME);
  if (!existsSync(bin)) throw new Error(`ninja finished but ${bin} does not exist`);
  log(
    `built ${bin} (${(statSync(bin).size / 1e6).toFixed(1)} MB) in ${formatDuration(Date.now() - started)}`,
  );
  return bin;
}

/** Copies worker/ and overlays the shim subprojects and patches. */
export function prepareSources({ from, to, log = defaultLog }) {
  cpSync(from, to, {
    recursive: true,
    // Build outputs of mediasoup's own postinstall, if any, are not sources.
    filter: (p) => !/^(out|prebuild|build)([\\/]|$)/.test(relative(from, p)),
  });
  const shimRoot = join(WORKER_BUILD_DIR, "subprojects");
  for (const name of readdirSync(shimRoot)) {
    const wrap = join(to, "subprojects", `${name}.wrap`);
    if (!existsSync(wrap)) {
      throw new Error(
        `shim ${name} has no ${name}.wrap in mediasoup's worker/subprojects; update media/worker-build`,
      );
    }
    const dir = readFileSync(wrap, "utf8").match(/^directory\s*=\s*(\S+)\s*$/m)?.[1];
    if (!dir) throw new Error(`${wrap} has no directory= line`);
    // meson uses an existing subprojects/<directory> as is instead of fetching.
    rmSync(join(to, "subprojects", dir), { recursive: true, force: true });
    cpSync(join(shimRoot, name), join(to, "subprojects", dir), { recursive: true });
  }
  const patchDir = join(WORKER_BUILD_DIR, "patches");
  const patches = existsSync(patchDir) ? readdirSync(patchDir).filter((f) => f.endsWith(".patch")) : [];
  for (const patch of patches.sort()) {
    const file = join(patchDir, patch);
    const args = ["-p1", "--forward", "--batch", "--silent", "-i", file];
    const dry = spawnSync("patch", ["--dry-run", ...args], { cwd: to, encoding: "utf8" });
    if (dry.status !== 0) {
      throw new Error(
        `patch ${patch} does not apply to this mediasoup version (maybe fixed upstream: check and drop it):\n${dry.stdout}${dry.stderr}`,
      );
    }
    const res = spawnSync("patch", args, { cwd: to, encoding: "utf8" });
    if (res.status !== 0) throw new Error(`patch ${patch} failed:\n${res.stdout}${res.stderr}`);
    log(`applied ${patch}`);
  }
}

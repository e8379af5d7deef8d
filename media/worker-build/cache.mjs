// Where a provisioned mediasoup-worker lives, and how to tell a good cache entry
// from a broken one. Shared by provision.mjs / store.mjs (which fill the cache)
// and media/src/worker-bin.ts (which only reads it), so both always agree on
// the path. Node built-ins only: this runs before and while deps install.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const WORKER_BUILD_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(WORKER_BUILD_DIR, "..", "..");
export const BIN_NAME = "mediasoup-worker";

// Part of the cache key: bump it when the way the worker is configured or
// built changes in a way the shim and patch files don't show.
export const BUILD_RECIPE = "meson:release:b_ndebug=true:wrap=nodownload:v1";

// mediasoup-worker exits with 41 when MEDIASOUP_VERSION is missing. Seeing
// that code proves the binary loads (dynamic libs resolve) and reaches main().
export const WORKER_NO_VERSION_EXIT_CODE = 41;

/** Root of NEXUS Meet's machine-wide cache (outside the checkout). */
export function cacheRoot(env = process.env) {
  if (env.NEXUS_CACHE_DIR) return resolve(env.NEXUS_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, "nexus-meet");
  return join(homedir(), ".cache", "nexus-meet");
}

/** Directory of the installed mediasoup npm package. */
export function mediasoupDir(fromDir = REPO_ROOT) {
  const require = createRequire(join(fromDir, "package.json"));
  // The package's exports map hides package.json, so go up from the entry
  // point (node/lib/index.js).
  return resolve(dirname(require.resolve("mediasoup")), "..", "..");
}

export function mediasoupVersion(dir = mediasoupDir()) {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * Hash of everything in this repository that changes what the source build
 * produces, so editing a shim or a patch gives a new cache key (and a rebuild).
 */
export function shimHash(buildDir = WORKER_BUILD_DIR) {
  const hash = createHash("sha256");
  hash.update(BUILD_RECIPE);
  const files = ["subprojects", "patches"]
    .flatMap((d) => listFiles(join(buildDir, d)))
    .map((f) => relative(buildDir, f).split(sep).join("/"))
    .sort();
  for (const rel of files) {
    hash.update(`\0${rel}\0`);
    hash.update(readFileSync(join(buildDir, rel)));
  }
  return hash.digest("hex").slice(0, 12);
}

/**
 * Paths of the cache entry for this mediasoup version, platform, arch and
 * shim set. Nothing is created or checked here.
 */
export function workerCacheEntry({ env = process.env, msDir, version } = {}) {
  const v = version ?? mediasoupVersion(msDir ?? mediasoupDir());
  const key = `${BIN_NAME}-${v}-${process.platform}-${process.arch}-${shimHash()}`;
  const root = join(cacheRoot(env), "mediasoup-worker");
  const dir = join(root, key);
  return {
    key,
    version: v,
    root,
    dir,
    bin: join(dir, BIN_NAME),
    shaFile: join(dir, `${BIN_NAME}.sha256`),
    metaFile: join(dir, "meta.json"),
  };
}

export function sha256File(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/**
 * Runs the binary without MEDIASOUP_VERSION: a working build exits with 41,
 * anything else (missing shared library, truncated ELF, wrong arch) fails.
 */
export function checkRuns(bin) {
  const res = spawnSync(bin, [], { env: {}, stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
  if (res.error) return { ok: false, reason: `cannot run ${bin}: ${res.error.message}` };
  if (res.status === WORKER_NO_VERSION_EXIT_CODE) return { ok: true };
  const stderr = res.stderr?.toString().trim().split("\n").slice(-3).join(" | ") ?? "";
  const how = res.signal ? `signal ${res.signal}` : `exit code ${res.status}`;
  return {
    ok: false,
    reason: `${bin} ended with ${how} instead of ${WORKER_NO_VERSION_EXIT_CODE}: ${stderr}`,
  };
}

/**
 * Checks a cache entry without starting a Worker: binary present, executable,
 * same sha256 as recorded when it was stored, and it runs on this host.
 */
export function checkCacheEntry(entry, { run = true } = {}) {
  if (!existsSync(entry.bin)) return { ok: false, reason: "no cached binary" };
  if (!existsSync(entry.shaFile)) return { ok: false, reason: "cached binary has no sha256 beside it" };
  const st = statSync(entry.bin);
  if (!st.isFile() || (st.mode & 0o111) === 0)
    return { ok: false, reason: "cached binary is not executable" };
  const expected = readFileSync(entry.shaFile, "utf8").trim().split(/\s+/)[0];
  const actual = sha256File(entry.bin);
  if (expected !== actual) {
    return {
      ok: false,
      reason: `sha256 mismatch (stored ${expected.slice(0, 12)}…, file ${actual.slice(0, 12)}…)`,
    };
  }
  return run ? checkRuns(entry.bin) : { ok: true };
}

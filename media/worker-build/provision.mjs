// Orchestration: finds or makes a working mediasoup-worker and tells mediasoup
// where it is (MEDIASOUP_WORKER_BIN). Plain Node ESM with built-ins only,
// because it runs before (and while) the npm dependencies install.
//
// Order, first success wins:
//   1. MEDIASOUP_WORKER_BIN already set and the binary works.
//   2. The cache entry for this mediasoup version + platform + arch + shim hash
//      (see cache.mjs; root $NEXUS_CACHE_DIR, default ~/.cache/nexus-meet).
//   3. mediasoup's prebuilt binary, with a short timeout
//      (MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL for a mirror), prebuilt.mjs.
//   4. A build of node_modules/mediasoup/worker against the system libraries,
//      with the shims and patches of this directory, source-build.mjs.
//
// scripts/setup-worker.mjs is the CLI entry (main() below).
import { existsSync, rmSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { checkCacheEntry, mediasoupDir, workerCacheEntry } from "./cache.mjs";
import { acquireLock } from "./lock.mjs";
import { DOWNLOAD_DIR_PREFIX, downloadPrebuilt } from "./prebuilt.mjs";
import { defaultLog, formatDuration } from "./run.mjs";
import { buildFromSource } from "./source-build.mjs";
import { cleanLeftovers, installIntoCache } from "./store.mjs";
import { verifyWorker } from "./verify.mjs";

/**
 * Returns the absolute path of a verified mediasoup-worker and (unless
 * exportEnv is false) sets process.env.MEDIASOUP_WORKER_BIN to it.
 *
 * The download/build/verify steps are injectable so tests can exercise the
 * cache logic without a network or a five-minute compile.
 *
 * @param {object} [opts]
 * @param {(msg: string) => void} [opts.log] progress lines (default: stderr)
 * @param {NodeJS.ProcessEnv} [opts.env] where settings are read (default: process.env)
 * @param {string} [opts.msDir] mediasoup package directory (default: resolved from the repo)
 * @param {boolean} [opts.exportEnv] set process.env.MEDIASOUP_WORKER_BIN (default true)
 * @param {typeof downloadPrebuilt} [opts.download]
 * @param {typeof buildFromSource} [opts.build]
 * @param {typeof verifyWorker} [opts.verify]
 * @returns {Promise<string>}
 */
export async function ensureWorker(opts = {}) {
  const {
    env = process.env,
    exportEnv = true,
    download = downloadPrebuilt,
    build = buildFromSource,
    verify = verifyWorker,
  } = opts;
  const userLog = opts.log ?? defaultLog;
  const t0 = Date.now();
  const log = (msg) => userLog(`[+${formatDuration(Date.now() - t0)}] ${msg}`);
  let msDir = opts.msDir;
  if (!msDir) {
    try {
      msDir = mediasoupDir();
    } catch {
      msDir = undefined;
    }
  }

  const use = (bin, how) => {
    log(`mediasoup-worker ready (${how}): ${bin}`);
    if (exportEnv) process.env.MEDIASOUP_WORKER_BIN = bin;
    return bin;
  };

  // 1. An explicitly configured binary.
  if (env.MEDIASOUP_WORKER_BIN) {
    const given = resolve(env.MEDIASOUP_WORKER_BIN);
    const res = existsSync(given)
      ? await verify(given, { msDir, env })
      : { ok: false, reason: "no such file" };
    if (res.ok) return use(given, "MEDIASOUP_WORKER_BIN");
    log(`ignoring MEDIASOUP_WORKER_BIN=${given}: ${res.reason}`);
  }

  if (!msDir) {
    throw new Error(
      "the mediasoup npm package is not installed, so there is neither a version to provision nor worker " +
        "sources to build. Install the dependencies first with MEDIASOUP_WORKER_BIN set in the environment " +
        "(any value; it stops mediasoup's own postinstall from downloading), e.g. " +
        "`MEDIASOUP_WORKER_BIN=provisioned-later npm ci`, then run `npm run setup:worker`.",
    );
  }

  const entry = workerCacheEntry({ env, msDir });
  log(`cache entry ${entry.dir}`);

  // 2. The cache, checked before taking the lock so the common case is fast.
  const cached = await checkEntry(entry, { msDir, env, verify });
  if (cached.ok) return use(entry.bin, "cached");
  if (existsSync(entry.dir)) log(`cache entry is broken (${cached.reason}); replacing it`);

  const release = await acquireLock(entry, log);
  try {
    // Another process may have filled the entry while we waited for the lock.
    const again = await checkEntry(entry, { msDir, env, verify });
    if (again.ok) return use(entry.bin, "cached by a concurrent run");
    cleanLeftovers(entry);

    // 3. mediasoup's prebuilt binary.
    const downloaded = await download({ version: entry.version, env, log });
    if (downloaded) {
      try {
        const res = await verify(downloaded, { msDir, env });
        if (res.ok) {
          installIntoCache(entry, downloaded, { source: "prebuilt-download" });
          return use(entry.bin, "prebuilt download");
        }
        log(`downloaded prebuilt does not work here (${res.reason}); building from source`);
      } finally {
        // Only our own download directory; an injected download owns its file.
        if (basename(dirname(downloaded)).startsWith(DOWNLOAD_DIR_PREFIX)) {
          rmSync(dirname(downloaded), { recursive: true, force: true });
        }
      }
    }

    // 4. Source build.
    if (env.NEXUS_WORKER_NO_BUILD === "1") {
      throw new Error(`no working mediasoup-worker found and NEXUS_WORKER_NO_BUILD=1 forbids building one`);
    }
    const built = await build({ entry, msDir, env, log });
    const res = await verify(built, { msDir, env });
    if (!res.ok) throw new Error(`the freshly built mediasoup-worker does not work: ${res.reason}`);
    installIntoCache(entry, built, { source: "source-build" });
    const stored = checkCacheEntry(entry);
    if (!stored.ok) throw new Error(`cache entry unusable right after storing it: ${stored.reason}`);
    return use(entry.bin, "built from source");
  } finally {
    release();
  }
}

async function checkEntry(entry, { msDir, env, verify }) {
  const quick = checkCacheEntry(entry, { run: false });
  if (!quick.ok) return quick;
  return verify(entry.bin, { msDir, env });
}

/** The CLI of scripts/setup-worker.mjs: prints the binary's path as the last stdout line. */
export async function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(
      "usage: node scripts/setup-worker.mjs\n" +
        "Provisions a verified mediasoup-worker and prints its absolute path as the last stdout line.\n" +
        "env: MEDIASOUP_WORKER_BIN, NEXUS_CACHE_DIR, MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL,\n" +
        "     MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD, NEXUS_WORKER_DOWNLOAD_TIMEOUT_MS,\n" +
        "     NEXUS_WORKER_NO_BUILD=1, NEXUS_BUILD_JOBS\n",
    );
    return;
  }
  const bin = await ensureWorker();
  process.stdout.write(`${bin}\n`);
}

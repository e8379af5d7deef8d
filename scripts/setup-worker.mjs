#!/usr/bin/env node
// Provisions a working mediasoup-worker binary and tells mediasoup where it is
// (MEDIASOUP_WORKER_BIN). Plain Node ESM with built-ins only, because it runs
// before (and while) the npm dependencies install.
//
// Order, first success wins:
//   1. MEDIASOUP_WORKER_BIN already set and the binary works.
//   2. The cache entry for this mediasoup version + platform + arch + shim hash
//      (see media/worker-build/cache.mjs; root $NEXUS_CACHE_DIR, default
//      ~/.cache/nexus-meet).
//   3. mediasoup's prebuilt binary, with a short timeout
//      (MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL for a mirror).
//   4. A build of node_modules/mediasoup/worker against the system libraries,
//      with the shims and patches of media/worker-build/ (see its README).
//
// CLI: `node scripts/setup-worker.mjs` logs to stderr and prints the binary's
// absolute path as the last stdout line. Library: `ensureWorker({ log })`.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, release as osRelease, tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  BIN_NAME,
  cacheRoot,
  checkCacheEntry,
  checkRuns,
  mediasoupDir,
  sha256File,
  WORKER_BUILD_DIR,
  workerCacheEntry,
} from "../media/worker-build/cache.mjs";

const DEFAULT_DOWNLOAD_TIMEOUT_MS = 20_000;
const DOWNLOAD_DIR_PREFIX = "nexus-worker-dl-";
const VERIFY_TIMEOUT_MS = 30_000;
// A concurrent setup-worker may be in the middle of a source build (minutes).
const LOCK_WAIT_MS = 45 * 60_000;
const LOCK_STALE_MS = 3 * 60 * 60_000;

// Debian package -> how to tell it is already usable. Checking the commands
// and pkg-config modules (not dpkg) also works on a non-Debian host that has
// them from elsewhere.
const BUILD_DEPS = [
  { pkg: "meson", cmd: "meson" },
  { pkg: "ninja-build", cmd: "ninja" },
  { pkg: "pkg-config", cmd: "pkg-config" },
  { pkg: "g++", cmd: "c++" },
  { pkg: "python3", cmd: "python3" },
  { pkg: "patch", cmd: "patch" },
  { pkg: "flatbuffers-compiler", cmd: "flatc" },
  { pkg: "libuv1-dev", pc: "libuv" },
  { pkg: "libssl-dev", pc: "libssl" },
  { pkg: "libsrtp2-dev", pc: "libsrtp2" },
  { pkg: "libflatbuffers-dev", pc: "flatbuffers" },
  { pkg: "libabsl-dev", pc: "absl_strings" },
];
const MESON_MIN = [1, 1];

export function formatDuration(ms) {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
}

function defaultLog(msg) {
  process.stderr.write(`[setup-worker] ${msg}\n`);
}

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

/**
 * A binary works when it starts on this host (exit 41 without
 * MEDIASOUP_VERSION) and, if the mediasoup package is at hand, when mediasoup
 * can start a Worker with it and create a Router. The Worker runs in a child
 * Node process so a failure cannot disturb the caller.
 */
export async function verifyWorker(bin, { msDir, env = process.env } = {}) {
  const runs = checkRuns(bin);
  if (!runs.ok || !msDir) return runs;
  const snippet = `
    const ms = require(process.env.NEXUS_VERIFY_MEDIASOUP);
    (async () => {
      const worker = await ms.createWorker({ workerBin: process.env.NEXUS_VERIFY_BIN, logLevel: "error" });
      await worker.createRouter({ mediaCodecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 }] });
      worker.close();
      process.stdout.write("worker-ok " + ms.version);
    })().catch((err) => { process.stdout.write("worker-failed " + (err && err.message)); process.exitCode = 1; });
  `;
  const childEnv = { ...env, NEXUS_VERIFY_BIN: bin, NEXUS_VERIFY_MEDIASOUP: msDir };
  delete childEnv.MEDIASOUP_WORKER_BIN;
  const res = await run(process.execPath, ["-e", snippet], { env: childEnv, timeoutMs: VERIFY_TIMEOUT_MS });
  if (res.code === 0 && res.stdout.startsWith("worker-ok")) return { ok: true };
  const why = `${res.stdout} ${res.stderr}`.trim().split("\n").slice(-3).join(" | ");
  return { ok: false, reason: `starting a mediasoup Worker failed (exit ${res.code ?? res.signal}): ${why}` };
}

/** Copies a verified binary into the cache; the entry appears complete or not at all. */
export function installIntoCache(entry, srcBin, meta = {}) {
  mkdirSync(entry.root, { recursive: true });
  const staging = mkdtempSync(join(entry.root, `.staging-${entry.key}-`));
  try {
    // mkdtemp makes it 0700; the entry should be as readable as the cache root.
    chmodSync(staging, 0o755);
    const bin = join(staging, BIN_NAME);
    copyFileSync(srcBin, bin);
    chmodSync(bin, 0o755);
    const sha = sha256File(bin);
    writeDurably(join(staging, `${BIN_NAME}.sha256`), `${sha}  ${BIN_NAME}\n`);
    writeDurably(
      join(staging, "meta.json"),
      `${JSON.stringify({ ...meta, key: entry.key, version: entry.version, sha256: sha, storedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    fsyncPath(bin);
    // Directory renames are atomic: readers see the old entry, no entry, or
    // the new complete one, never a half-written binary.
    if (existsSync(entry.dir)) {
      const trash = `${staging.replace(".staging-", ".trash-")}`;
      renameSync(entry.dir, trash);
      renameSync(staging, entry.dir);
      rmSync(trash, { recursive: true, force: true });
    } else {
      renameSync(staging, entry.dir);
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return entry.bin;
}

function writeDurably(file, text) {
  writeFileSync(file, text);
  fsyncPath(file);
}

function fsyncPath(file) {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function cleanLeftovers(entry) {
  if (!existsSync(entry.root)) return;
  for (const name of readdirSync(entry.root)) {
    if (name.startsWith(`.staging-${entry.key}-`) || name.startsWith(`.trash-${entry.key}-`)) {
      rmSync(join(entry.root, name), { recursive: true, force: true });
    }
  }
}

async function acquireLock(entry, log) {
  mkdirSync(entry.root, { recursive: true });
  const lockDir = join(entry.root, `${entry.key}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let lastNote = 0;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(
        join(lockDir, "owner.json"),
        JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }),
      );
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    const owner = readOwner(lockDir);
    if (isStale(owner, lockDir)) {
      log(`removing stale lock ${lockDir}`);
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${lockDir} (held by pid ${owner?.pid}); remove it if no setup runs`,
      );
    }
    if (Date.now() - lastNote > 30_000) {
      log(`waiting for another setup-worker (pid ${owner?.pid ?? "?"}) to finish`);
      lastNote = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function readOwner(lockDir) {
  try {
    return JSON.parse(readFileSync(join(lockDir, "owner.json"), "utf8"));
  } catch {
    return null;
  }
}

function isStale(owner, lockDir) {
  if (!owner) {
    // Owner file not written yet, or the writer died between mkdir and write.
    try {
      return Date.now() - statSync(lockDir).mtimeMs > 60_000;
    } catch {
      return true;
    }
  }
  if (Date.now() - owner.since > LOCK_STALE_MS) return true;
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return err.code === "ESRCH";
  }
}

/** Same asset name as mediasoup's own postinstall (npm-scripts.mjs). */
export function prebuiltAssetName(version, platform = process.platform, arch = process.arch) {
  let name = `mediasoup-worker-${version}-${platform}-${arch}`;
  if (platform === "linux") name += `-kernel${Number(osRelease().split(".")[0])}`;
  return `${name}.tgz`;
}

/**
 * Fetches mediasoup's prebuilt worker into a temp dir and returns its path,
 * or null when unavailable (offline, 404, timeout).
 */
export async function downloadPrebuilt({ version, env = process.env, log = defaultLog }) {
  if (env.MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD && !env.MEDIASOUP_FORCE_WORKER_PREBUILT_DOWNLOAD) {
    log("prebuilt download skipped (MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD)");
    return null;
  }
  const base = (
    env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ||
    "https://github.com/versatica/mediasoup/releases/download"
  ).replace(/\/+$/, "");
  const url = `${base}/${version}/${prebuiltAssetName(version)}`;
  const timeoutMs = Number(env.NEXUS_WORKER_DOWNLOAD_TIMEOUT_MS) || DEFAULT_DOWNLOAD_TIMEOUT_MS;
  log(`trying prebuilt ${url} (timeout ${formatDuration(timeoutMs)})`);
  let tgz;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      log(`no prebuilt: HTTP ${res.status}`);
      return null;
    }
    tgz = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    log(`no prebuilt: ${err.cause?.code ?? err.name ?? err.message}`);
    return null;
  }
  let contents;
  try {
    contents = extractFromTar(gunzipSync(tgz), BIN_NAME);
  } catch (err) {
    log(`prebuilt archive unreadable: ${err.message}`);
    return null;
  }
  if (!contents) {
    log(`prebuilt archive has no ${BIN_NAME}`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), DOWNLOAD_DIR_PREFIX));
  const bin = join(dir, BIN_NAME);
  writeFileSync(bin, contents, { mode: 0o755 });
  return bin;
}

/** Minimal ustar reader: returns the first regular file whose basename matches. */
export function extractFromTar(tar, wanted) {
  const str = (buf, start, len) => {
    const end = buf.indexOf(0, start);
    return buf.toString("utf8", start, end === -1 || end > start + len ? start + len : end);
  };
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = str(header, 0, 100);
    const prefix = str(header, 345, 155);
    const size = Number.parseInt(str(header, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 48);
    const full = prefix ? `${prefix}/${name}` : name;
    const dataStart = off + 512;
    if ((type === "0" || type === "\0") && basename(full) === wanted) {
      return tar.subarray(dataStart, dataStart + size);
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return null;
}

function commandExists(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function mesonVersionOk() {
  const res = spawnSync("meson", ["--version"], { encoding: "utf8" });
  if (res.status !== 0) return false;
  const [major, minor] = res.stdout.trim().split(".").map(Number);
  return major > MESON_MIN[0] || (major === MESON_MIN[0] && minor >= MESON_MIN[1]);
}

function missingBuildDeps() {
  const hasPkgConfig = commandExists("pkg-config");
  return BUILD_DEPS.filter((d) => {
    if (d.cmd === "meson") return !mesonVersionOk();
    if (d.cmd) return !commandExists(d.cmd);
    if (!hasPkgConfig) return true;
    return spawnSync("pkg-config", ["--exists", d.pc], { stdio: "ignore" }).status !== 0;
  }).map((d) => d.pkg);
}

function readOsRelease() {
  try {
    return Object.fromEntries(
      readFileSync("/etc/os-release", "utf8")
        .split("\n")
        .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
        .filter(Boolean)
        .map((m) => [m[1], m[2].replace(/^"|"$/g, "")]),
    );
  } catch {
    return {};
  }
}

function hasBackportsSource(codename) {
  const files = ["/etc/apt/sources.list"];
  try {
    for (const f of readdirSync("/etc/apt/sources.list.d")) files.push(join("/etc/apt/sources.list.d", f));
  } catch {}
  return files.some((f) => {
    try {
      return /\.(list|sources)$/.test(f) && readFileSync(f, "utf8").includes(`${codename}-backports`);
    } catch {
      return false;
    }
  });
}

function installHint(missing, codename) {
  const others = missing.filter((p) => p !== "meson");
  const lines = [];
  if (others.length) lines.push(`  apt-get install -y --no-install-recommends ${others.join(" ")}`);
  if (missing.includes("meson")) {
    lines.push(
      codename === "bookworm"
        ? "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
            "  apt-get update && apt-get install -y -t bookworm-backports meson   # meson >= 1.1"
        : "  meson >= 1.1 (e.g. apt-get install meson on Debian 13 / Ubuntu 24.04, or pipx install meson)",
    );
  }
  return lines.join("\n");
}

/** Installs the source-build dependencies with apt when root; explains otherwise. */
export async function ensureBuildDeps({ log = defaultLog } = {}) {
  let missing = missingBuildDeps();
  if (missing.length === 0) return;
  const os = readOsRelease();
  const codename = os.VERSION_CODENAME ?? "";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !commandExists("apt-get")) {
    throw new Error(
      `building mediasoup-worker needs packages that are missing: ${missing.join(", ")}.\n` +
        `Install them${isRoot ? "" : " as root"}, then rerun \`npm run setup:worker\`:\n${installHint(missing, codename)}`,
    );
  }
  log(`installing build dependencies with apt: ${missing.join(" ")}`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const needsBackports = missing.includes("meson") && os.ID === "debian" && codename === "bookworm";
  if (needsBackports && !hasBackportsSource(codename)) {
    // Debian 12's own meson is 1.0, older than the worker's meson_version.
    log("adding the bookworm-backports apt source for meson >= 1.1");
    writeFileSync(
      "/etc/apt/sources.list.d/backports.sources",
      "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n" +
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
  }
  await runChecked("apt-get", ["update"], { env: aptEnv, log });
  const plain = missing.filter((p) => p !== "meson");
  if (plain.length) {
    await runChecked("apt-get", ["install", "-y", "--no-install-recommends", ...plain], { env: aptEnv, log });
  }
  if (missing.includes("meson")) {
    const args = needsBackports ? ["-t", "bookworm-backports", "meson"] : ["meson"];
    await runChecked("apt-get", ["install", "-y", "--no-install-recommends", ...args], { env: aptEnv, log });
  }
  missing = missingBuildDeps();
  if (missing.length) {
    throw new Error(
      `still missing after apt-get install: ${missing.join(", ")}\n${installHint(missing, codename)}`,
    );
  }
}

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

function run(cmd, args, { cwd, env, timeoutMs, onLine, logFile } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const tail = [];
    let partial = "";
    let fd = null;
    if (logFile) fd = openSync(logFile, "a");
    const onData = (which) => (chunk) => {
      const text = chunk.toString();
      if (fd !== null) writeFileSync(fd, text);
      // Callers only need the start of a child's output; logs go to logFile.
      if (which === "out" && stdout.length < 1e6) stdout += text;
      if (which === "err" && stderr.length < 1e6) stderr += text;
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        onLine?.(line);
      }
    };
    child.stdout.on("data", onData("out"));
    child.stderr.on("data", onData("err"));
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : null;
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      if (fd !== null) closeSync(fd);
      resolvePromise({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}`, tail });
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (partial) tail.push(partial);
      if (fd !== null) closeSync(fd);
      resolvePromise({ code, signal, stdout, stderr, tail });
    });
  });
}

async function runChecked(cmd, args, { cwd, env, log, logFile, onLine } = {}) {
  // Long silent steps (apt, meson) still show they are alive.
  const started = Date.now();
  const heartbeat = log
    ? setInterval(
        () => log(`still running: ${cmd} ${args.join(" ")} (${formatDuration(Date.now() - started)})`),
        30_000,
      )
    : null;
  let res;
  try {
    res = await run(cmd, args, { cwd, env, logFile, onLine });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
  if (res.code !== 0) {
    const where = logFile ? ` (full log: ${logFile})` : "";
    throw new Error(
      `${cmd} ${args.join(" ")} failed with ${res.code ?? res.signal}${where}:\n${res.tail.slice(-40).join("\n")}`,
    );
  }
  return res;
}

async function main(argv) {
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

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`[setup-worker] FAILED: ${err.message}\n`);
    process.exit(1);
  });
}

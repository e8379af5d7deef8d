// Cache logic of media/worker-build/ (provision.mjs) against a throw-away cache directory.
// The real from-scratch build (minutes) is not repeated here: builds are
// replaced by a stub that hands back a copy of the already provisioned binary,
// which is enough to see which path ensureWorker takes.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { resolveWorkerBin } from "../../src/sfu/worker-bin.js";
import {
  checkCacheEntry,
  mediasoupDir,
  mediasoupVersion,
  sha256File,
  shimHash,
  WORKER_BUILD_DIR,
  type WorkerCacheEntry,
  workerCacheEntry,
} from "../../worker-build/cache.mjs";
import { extractFromTar, prebuiltAssetName } from "../../worker-build/prebuilt.mjs";
import { ensureWorker } from "../../worker-build/provision.mjs";
import { prepareSources } from "../../worker-build/source-build.mjs";
import { installIntoCache } from "../../worker-build/store.mjs";

const REPO = resolve(import.meta.dirname, "..", "..", "..");
const SCRIPT = join(REPO, "scripts", "setup-worker.mjs");
const realBin = inject("mediasoupWorkerBin");

let tmp: string;
let env: NodeJS.ProcessEnv;
let entry: WorkerCacheEntry;

function stubBuild(calls: { n: number }) {
  return async () => {
    calls.n += 1;
    const out = join(tmp, `built-${calls.n}`);
    mkdirSync(out, { recursive: true });
    copyFileSync(realBin, join(out, "mediasoup-worker"));
    chmodSync(join(out, "mediasoup-worker"), 0o755);
    return join(out, "mediasoup-worker");
  };
}

const noDownload = async () => null;
const failIfBuilt = async (): Promise<string> => {
  throw new Error("build must not run on this path");
};

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "nexus-worker-cache-test-"));
  // Only what the script reads; no MEDIASOUP_WORKER_BIN so the cache is used.
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NEXUS_CACHE_DIR: join(tmp, "cache"),
    MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD: "1",
  };
  entry = workerCacheEntry({ env });
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("cache entry", () => {
  it("is keyed by mediasoup version, platform, arch and shim hash, under NEXUS_CACHE_DIR", () => {
    expect(entry.dir.startsWith(join(tmp, "cache"))).toBe(true);
    expect(entry.key).toBe(
      `mediasoup-worker-${mediasoupVersion()}-${process.platform}-${process.arch}-${shimHash()}`,
    );
  });

  it("changes key when a shim file changes", () => {
    const copy = join(tmp, "worker-build");
    mkdirSync(join(copy, "subprojects", "x"), { recursive: true });
    writeFileSync(join(copy, "subprojects", "x", "meson.build"), "project('x')\n");
    const before = shimHash(copy);
    writeFileSync(join(copy, "subprojects", "x", "meson.build"), "project('x', 'c')\n");
    expect(shimHash(copy)).not.toBe(before);
  });

  it("stores binary, sha256 and metadata together and verifies them", () => {
    installIntoCache(entry, realBin, { source: "test" });
    expect(checkCacheEntry(entry)).toEqual({ ok: true });
    expect(readFileSync(entry.shaFile, "utf8").split(/\s+/)[0]).toBe(sha256File(realBin));
    expect(JSON.parse(readFileSync(entry.metaFile, "utf8")).source).toBe("test");
    expect(readdirSync(entry.root).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("detects a truncated binary", () => {
    installIntoCache(entry, realBin);
    truncateSync(entry.bin, Math.floor(statSync(entry.bin).size / 2));
    const res = checkCacheEntry(entry);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.reason).toMatch(/sha256 mismatch/);
  });

  it("detects a missing sha256 file", () => {
    installIntoCache(entry, realBin);
    unlinkSync(entry.shaFile);
    expect(checkCacheEntry(entry).ok).toBe(false);
  });

  it("detects a binary that does not run even when the sha256 matches", () => {
    installIntoCache(entry, realBin);
    writeFileSync(entry.bin, "#!/bin/sh\nexit 3\n");
    writeFileSync(entry.shaFile, `${sha256File(entry.bin)}  mediasoup-worker\n`);
    const res = checkCacheEntry(entry);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.reason).toMatch(/exit code 3/);
  });
});

describe("ensureWorker", () => {
  it("fast path: the CLI returns the cached path without downloading or building", () => {
    installIntoCache(entry, realBin);
    const res = spawnSync(process.execPath, [SCRIPT], {
      cwd: REPO,
      // NEXUS_WORKER_NO_BUILD turns an unexpected build into a failure
      // instead of minutes of compiling.
      env: { ...env, NEXUS_WORKER_NO_BUILD: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines.at(-1)).toBe(entry.bin);
    expect(res.stderr).toMatch(/ready \(cached\)/);
    expect(res.stderr).not.toMatch(/compiling|trying prebuilt/);
  });

  it("uses a working MEDIASOUP_WORKER_BIN without touching the cache", async () => {
    const bin = await ensureWorker({
      env: { ...env, MEDIASOUP_WORKER_BIN: realBin },
      exportEnv: false,
      log: () => {},
      download: noDownload,
      build: failIfBuilt,
    });
    expect(bin).toBe(realBin);
    expect(existsSync(entry.dir)).toBe(false);
  });

  it("ignores a broken MEDIASOUP_WORKER_BIN and falls back to the cache", async () => {
    installIntoCache(entry, realBin);
    const bogus = join(tmp, "bogus-worker");
    writeFileSync(bogus, "not an executable", { mode: 0o755 });
    const lines: string[] = [];
    const bin = await ensureWorker({
      env: { ...env, MEDIASOUP_WORKER_BIN: bogus },
      exportEnv: false,
      log: (l) => lines.push(l),
      download: noDownload,
      build: failIfBuilt,
    });
    expect(bin).toBe(entry.bin);
    expect(lines.join("\n")).toMatch(/ignoring MEDIASOUP_WORKER_BIN/);
  });

  it("rebuilds when the cached binary is truncated, and stores a good entry", async () => {
    installIntoCache(entry, realBin);
    truncateSync(entry.bin, 4096);
    const calls = { n: 0 };
    const lines: string[] = [];
    const bin = await ensureWorker({
      env,
      exportEnv: false,
      log: (l) => lines.push(l),
      download: noDownload,
      build: stubBuild(calls),
    });
    expect(calls.n).toBe(1);
    expect(bin).toBe(entry.bin);
    expect(lines.join("\n")).toMatch(/cache entry is broken \(sha256 mismatch/);
    expect(checkCacheEntry(entry)).toEqual({ ok: true });
    expect(sha256File(entry.bin)).toBe(sha256File(realBin));
    expect(JSON.parse(readFileSync(entry.metaFile, "utf8")).source).toBe("source-build");
  });

  it("builds when there is no cache entry, then serves the next call from the cache", async () => {
    const calls = { n: 0 };
    const opts = { env, exportEnv: false, log: () => {}, download: noDownload, build: stubBuild(calls) };
    expect(await ensureWorker(opts)).toBe(entry.bin);
    expect(await ensureWorker(opts)).toBe(entry.bin);
    expect(calls.n).toBe(1);
  });

  it("prefers a working prebuilt download over building", async () => {
    const calls = { n: 0 };
    const bin = await ensureWorker({
      env,
      exportEnv: false,
      log: () => {},
      download: async () => {
        const dir = mkdtempSync(join(tmp, "dl-"));
        copyFileSync(realBin, join(dir, "mediasoup-worker"));
        chmodSync(join(dir, "mediasoup-worker"), 0o755);
        return join(dir, "mediasoup-worker");
      },
      build: stubBuild(calls),
    });
    expect(bin).toBe(entry.bin);
    expect(calls.n).toBe(0);
    expect(JSON.parse(readFileSync(entry.metaFile, "utf8")).source).toBe("prebuilt-download");
  });

  it("leaves no cache entry behind when the build fails or yields a broken binary", async () => {
    const failing = ensureWorker({
      env,
      exportEnv: false,
      log: () => {},
      download: noDownload,
      build: async () => {
        throw new Error("compiler exploded");
      },
    });
    await expect(failing).rejects.toThrow(/compiler exploded/);
    expect(existsSync(entry.dir)).toBe(false);

    const broken = ensureWorker({
      env,
      exportEnv: false,
      log: () => {},
      download: noDownload,
      build: async () => {
        const out = join(tmp, "half-built");
        copyFileSync(realBin, out);
        truncateSync(out, 10_000);
        chmodSync(out, 0o755);
        return out;
      },
    });
    await expect(broken).rejects.toThrow(/does not work/);
    expect(existsSync(entry.dir)).toBe(false);
    expect(readdirSync(entry.root).filter((n) => !n.endsWith(".lock"))).toEqual([]);
  });
});

describe("prebuilt download from a mirror", () => {
  let server: Server;
  let requests: string[];
  let tgz: Buffer | null;

  beforeEach(async () => {
    requests = [];
    tgz = null;
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (tgz && req.url?.endsWith(prebuiltAssetName(mediasoupVersion()))) {
        res.writeHead(200, { "content-type": "application/gzip" }).end(tgz);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function mirrorEnv() {
    const { port } = server.address() as AddressInfo;
    const e: NodeJS.ProcessEnv = {
      ...env,
      MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL: `http://127.0.0.1:${port}/releases/`,
    };
    delete e.MEDIASOUP_SKIP_WORKER_PREBUILT_DOWNLOAD;
    return e;
  }

  it("fetches <base>/<version>/<asset> from MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL and caches it", async () => {
    const dir = join(tmp, "pkg");
    mkdirSync(dir);
    copyFileSync(realBin, join(dir, "mediasoup-worker"));
    const tar = spawnSync("tar", ["-czf", "-", "-C", dir, "mediasoup-worker"], { maxBuffer: 64 << 20 });
    expect(tar.status).toBe(0);
    tgz = tar.stdout;
    const calls = { n: 0 };
    const bin = await ensureWorker({
      env: mirrorEnv(),
      exportEnv: false,
      log: () => {},
      build: stubBuild(calls),
    });
    expect(bin).toBe(entry.bin);
    expect(calls.n).toBe(0);
    expect(requests).toEqual([`/releases/${mediasoupVersion()}/${prebuiltAssetName(mediasoupVersion())}`]);
    expect(JSON.parse(readFileSync(entry.metaFile, "utf8")).source).toBe("prebuilt-download");
    expect(sha256File(entry.bin)).toBe(sha256File(realBin));
  });

  it("falls back to building when the mirror has no asset", async () => {
    const calls = { n: 0 };
    const bin = await ensureWorker({
      env: mirrorEnv(),
      exportEnv: false,
      log: () => {},
      build: stubBuild(calls),
    });
    expect(bin).toBe(entry.bin);
    expect(requests).toHaveLength(1);
    expect(calls.n).toBe(1);
  });
});

describe("source preparation", () => {
  // Catches a mediasoup upgrade that renames a wrap or makes the patch stale,
  // without the minutes of an actual build.
  it("places each shim at its wrap's directory and applies the DTLS patch to a copy only", () => {
    const from = join(mediasoupDir(), "worker");
    const to = join(tmp, "worker");
    const lines: string[] = [];
    prepareSources({ from, to, log: (l) => lines.push(l) });
    for (const shim of readdirSync(join(WORKER_BUILD_DIR, "subprojects"))) {
      const wrap = readFileSync(join(to, "subprojects", `${shim}.wrap`), "utf8");
      const dir = wrap.match(/^directory\s*=\s*(\S+)/m)?.[1];
      expect(dir, shim).toBeTruthy();
      expect(existsSync(join(to, "subprojects", dir!, "meson.build")), shim).toBe(true);
    }
    expect(lines.join("\n")).toMatch(/applied 0001-dtls-bio-callback-return-value\.patch/);
    const fixed = "(operationType & BIO_CB_RETURN) ? static_cast<long>(ret) : 1";
    expect(readFileSync(join(to, "src/RTC/DtlsTransport.cpp"), "utf8")).toContain(fixed);
    expect(readFileSync(join(from, "src/RTC/DtlsTransport.cpp"), "utf8")).not.toContain(fixed);
  });
});

describe("resolveWorkerBin", () => {
  it("returns the verified cache entry, and explains what to run when there is none", () => {
    expect(() => resolveWorkerBin({ env })).toThrow(/npm run setup:worker/);
    installIntoCache(entry, realBin);
    expect(resolveWorkerBin({ env })).toBe(entry.bin);
    expect(resolveWorkerBin({ env: { ...env, MEDIASOUP_WORKER_BIN: realBin } })).toBe(realBin);
  });
});

describe("prebuilt download helpers", () => {
  it("names the asset like mediasoup's postinstall does", () => {
    expect(prebuiltAssetName("3.27.1", "darwin", "arm64")).toBe("mediasoup-worker-3.27.1-darwin-arm64.tgz");
    expect(prebuiltAssetName("3.27.1", "linux", "x64")).toMatch(
      /^mediasoup-worker-3\.27\.1-linux-x64-kernel\d+\.tgz$/,
    );
  });

  it("extracts the worker from a tar archive", () => {
    const dir = join(tmp, "tar");
    mkdirSync(join(dir, "out"), { recursive: true });
    writeFileSync(join(dir, "out", "README"), "x".repeat(700));
    writeFileSync(join(dir, "out", "mediasoup-worker"), "binary-bytes");
    const tar = spawnSync("tar", ["-cf", "-", "-C", dir, "out"], { maxBuffer: 1 << 20 });
    expect(tar.status).toBe(0);
    expect(extractFromTar(tar.stdout, "mediasoup-worker")?.toString()).toBe("binary-bytes");
    expect(extractFromTar(tar.stdout, "missing")).toBeNull();
  });
});

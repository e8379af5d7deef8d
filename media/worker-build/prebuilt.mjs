// Download of mediasoup's prebuilt worker (same asset as its own postinstall),
// with a short timeout and a minimal tar reader.
import { mkdtempSync, writeFileSync } from "node:fs";
import { release as osRelease, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BIN_NAME } from "./cache.mjs";
import { defaultLog, formatDuration } from "./run.mjs";

const DEFAULT_DOWNLOAD_TIMEOUT_MS = 20_000;
// provision.mjs removes a downloaded binary's directory only when it has this prefix.
export const DOWNLOAD_DIR_PREFIX = "nexus-worker-dl-";

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

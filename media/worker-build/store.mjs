// Writing cache entries (cache.mjs only locates and checks them): atomic
// install of a verified binary, and cleanup of what an interrupted install
// left behind.
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BIN_NAME, sha256File } from "./cache.mjs";

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

/** Removes staging/trash directories of `entry` left by an interrupted install. */
export function cleanLeftovers(entry) {
  if (!existsSync(entry.root)) return;
  for (const name of readdirSync(entry.root)) {
    if (name.startsWith(`.staging-${entry.key}-`) || name.startsWith(`.trash-${entry.key}-`)) {
      rmSync(join(entry.root, name), { recursive: true, force: true });
    }
  }
}

// Per-cache-entry lock (a directory beside the entry), so concurrent
// setup-worker runs don't download or build the same worker twice.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

// A concurrent setup-worker may be in the middle of a source build (minutes).
const LOCK_WAIT_MS = 45 * 60_000;
const LOCK_STALE_MS = 3 * 60 * 60_000;

/** Waits for and takes the lock of `entry`; returns the release function. */
export async function acquireLock(entry, log) {
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

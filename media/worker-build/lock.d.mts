// Types for lock.mjs.
import type { WorkerCacheEntry } from "./cache.mjs";
import type { Log } from "./run.mjs";

export function acquireLock(entry: WorkerCacheEntry, log: Log): Promise<() => void>;

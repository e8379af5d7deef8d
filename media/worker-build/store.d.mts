// Types for store.mjs.
import type { WorkerCacheEntry } from "./cache.mjs";

export function installIntoCache(
  entry: WorkerCacheEntry,
  srcBin: string,
  meta?: Record<string, unknown>,
): string;
export function cleanLeftovers(entry: WorkerCacheEntry): void;

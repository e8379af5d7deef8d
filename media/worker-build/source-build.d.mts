// Types for source-build.mjs.
import type { WorkerCacheEntry } from "./cache.mjs";
import type { Log } from "./run.mjs";

export type Build = (ctx: {
  entry: WorkerCacheEntry;
  msDir: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}) => Promise<string>;
export const buildFromSource: Build;
export function prepareSources(opts: { from: string; to: string; log?: Log }): void;

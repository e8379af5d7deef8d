// Types for cache.mjs, so TypeScript code (media/src/worker-bin.ts, tests) can
// share the plain-JS cache logic that provision.mjs (scripts/setup-worker.mjs) also uses.

export interface WorkerCacheEntry {
  /** mediasoup-worker-<version>-<platform>-<arch>-<shim hash> */
  key: string;
  version: string;
  root: string;
  dir: string;
  bin: string;
  shaFile: string;
  metaFile: string;
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

export const WORKER_BUILD_DIR: string;
export const REPO_ROOT: string;
export const BIN_NAME: string;
export const BUILD_RECIPE: string;
export const WORKER_NO_VERSION_EXIT_CODE: number;

export function cacheRoot(env?: NodeJS.ProcessEnv): string;
export function mediasoupDir(fromDir?: string): string;
export function mediasoupVersion(dir?: string): string;
export function shimHash(buildDir?: string): string;
export function workerCacheEntry(opts?: {
  env?: NodeJS.ProcessEnv;
  msDir?: string;
  version?: string;
}): WorkerCacheEntry;
export function sha256File(file: string): string;
export function checkRuns(bin: string): CheckResult;
export function checkCacheEntry(entry: WorkerCacheEntry, opts?: { run?: boolean }): CheckResult;

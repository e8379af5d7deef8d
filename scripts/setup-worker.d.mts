// Types for setup-worker.mjs, for TypeScript callers (media tests, globalSetup).
import type { WorkerCacheEntry } from "../media/worker-build/cache.mjs";

export type Log = (msg: string) => void;
export type VerifyResult = { ok: true } | { ok: false; reason: string };
export type Verify = (bin: string, ctx: { msDir?: string; env?: NodeJS.ProcessEnv }) => Promise<VerifyResult>;
export type Download = (ctx: { version: string; env: NodeJS.ProcessEnv; log: Log }) => Promise<string | null>;
export type Build = (ctx: {
  entry: WorkerCacheEntry;
  msDir: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}) => Promise<string>;

export interface EnsureWorkerOptions {
  /** Progress lines, already prefixed with the elapsed time. Default: stderr. */
  log?: Log;
  /** Where settings are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** mediasoup package directory. Default: resolved from the repository root. */
  msDir?: string;
  /** Set process.env.MEDIASOUP_WORKER_BIN to the result. Default true. */
  exportEnv?: boolean;
  download?: Download;
  build?: Build;
  verify?: Verify;
}

export function ensureWorker(opts?: EnsureWorkerOptions): Promise<string>;
export const verifyWorker: Verify;
export const downloadPrebuilt: Download;
export const buildFromSource: Build;
export function installIntoCache(
  entry: WorkerCacheEntry,
  srcBin: string,
  meta?: Record<string, unknown>,
): string;
export function prebuiltAssetName(version: string, platform?: string, arch?: string): string;
export function extractFromTar(tar: Buffer, wanted: string): Buffer | null;
export function ensureBuildDeps(opts?: { log?: Log }): Promise<void>;
export function prepareSources(opts: { from: string; to: string; log?: Log }): void;
export function formatDuration(ms: number): string;

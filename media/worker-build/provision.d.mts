// Types for provision.mjs.
import type { Download } from "./prebuilt.mjs";
import type { Log } from "./run.mjs";
import type { Build } from "./source-build.mjs";
import type { Verify } from "./verify.mjs";

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
/** The CLI of scripts/setup-worker.mjs. */
export function main(argv: string[]): Promise<void>;

// Locates the mediasoup-worker binary provisioned by scripts/setup-worker.mjs.
//
// mediasoup reads MEDIASOUP_WORKER_BIN once, when its module is first loaded
// (node_modules/mediasoup/node/lib/Worker.js computes defaultWorkerBin at
// import time), so set the variable before the first `import "mediasoup"`
// or pass the path to createWorker({ workerBin }).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { checkCacheEntry, checkRuns, workerCacheEntry } from "../../worker-build/cache.mjs";

export interface ResolveWorkerBinOptions {
  env?: NodeJS.ProcessEnv;
  /** Also start the binary once to prove it loads on this host (a few ms). Default true. */
  run?: boolean;
}

/**
 * Absolute path of a usable mediasoup-worker: MEDIASOUP_WORKER_BIN when it
 * points at a working binary, otherwise the verified cache entry for this
 * mediasoup version, platform, arch and shim set. Never builds or downloads:
 * throws with the command to run when nothing usable is provisioned.
 */
export function resolveWorkerBin({ env = process.env, run = true }: ResolveWorkerBinOptions = {}): string {
  const problems: string[] = [];
  const given = env.MEDIASOUP_WORKER_BIN;
  if (given) {
    const bin = resolve(given);
    const res = !existsSync(bin)
      ? { ok: false as const, reason: "no such file" }
      : run
        ? checkRuns(bin)
        : { ok: true as const };
    if (res.ok) return bin;
    problems.push(`MEDIASOUP_WORKER_BIN=${bin}: ${res.reason}`);
  }
  const entry = workerCacheEntry({ env });
  const res = checkCacheEntry(entry, { run });
  if (res.ok) return entry.bin;
  problems.push(`cache ${entry.dir}: ${res.reason}`);
  throw new Error(
    `no usable mediasoup-worker (${problems.join("; ")}); run \`npm run setup:worker\` to provision one`,
  );
}

/** resolveWorkerBin(), then exports the result as MEDIASOUP_WORKER_BIN for this process. */
export function useProvisionedWorkerBin(opts: ResolveWorkerBinOptions = {}): string {
  const bin = resolveWorkerBin(opts);
  process.env.MEDIASOUP_WORKER_BIN = bin;
  return bin;
}

#!/usr/bin/env node
// Provisions a working mediasoup-worker binary and tells mediasoup where it is
// (MEDIASOUP_WORKER_BIN). The logic lives in media/worker-build/ (see its
// README); this file is the entry point that package.json's `setup:worker`,
// scripts/setup.mjs and scripts/test.mjs use.
//
// CLI: `node scripts/setup-worker.mjs` logs to stderr and prints the binary's
// absolute path as the last stdout line. Library: `ensureWorker({ log })`.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { main } from "../media/worker-build/provision.mjs";

export { ensureBuildDeps } from "../media/worker-build/build-deps.mjs";
export { downloadPrebuilt, extractFromTar, prebuiltAssetName } from "../media/worker-build/prebuilt.mjs";
export { ensureWorker } from "../media/worker-build/provision.mjs";
export { formatDuration } from "../media/worker-build/run.mjs";
export { buildFromSource, prepareSources } from "../media/worker-build/source-build.mjs";
export { installIntoCache } from "../media/worker-build/store.mjs";
export { verifyWorker } from "../media/worker-build/verify.mjs";

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`[setup-worker] FAILED: ${err.message}\n`);
    process.exit(1);
  });
}

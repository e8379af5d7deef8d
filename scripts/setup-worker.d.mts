// Types for setup-worker.mjs, for TypeScript callers (media tests, globalSetup): the modules' own.
export { ensureBuildDeps } from "../media/worker-build/build-deps.mjs";
export {
  type Download,
  downloadPrebuilt,
  extractFromTar,
  prebuiltAssetName,
} from "../media/worker-build/prebuilt.mjs";
export { type EnsureWorkerOptions, ensureWorker } from "../media/worker-build/provision.mjs";
export { formatDuration, type Log } from "../media/worker-build/run.mjs";
export { type Build, buildFromSource, prepareSources } from "../media/worker-build/source-build.mjs";
export { installIntoCache } from "../media/worker-build/store.mjs";
export { type Verify, type VerifyResult, verifyWorker } from "../media/worker-build/verify.mjs";

import type { TestProject } from "vitest/node";
import { ensureWorker } from "../../../scripts/setup-worker.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    mediasoupWorkerBin: string;
  }
}

// Runs in the main vitest process before the test workers start, so the
// MEDIASOUP_WORKER_BIN it exports is inherited by every test file. A cold
// machine pays for the source build here (minutes), once.
export default async function setup(project: TestProject): Promise<void> {
  const bin = await ensureWorker({ log: (msg) => console.log(`[setup-worker] ${msg}`) });
  project.provide("mediasoupWorkerBin", bin);
}

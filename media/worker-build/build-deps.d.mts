// Types for build-deps.mjs.
import type { Log } from "./run.mjs";

export function ensureBuildDeps(opts?: { log?: Log }): Promise<void>;

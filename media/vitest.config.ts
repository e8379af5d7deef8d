import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Provisions (or finds) the mediasoup-worker once per run and exports
    // MEDIASOUP_WORKER_BIN before any test file imports mediasoup.
    globalSetup: ["./test/worker/global-setup.ts", "@nexus/testkit/global-setup"],
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // One PostgreSQL + one Redis per run: every suite runs on PGlite and on the real server.
    globalSetup: ["@nexus/testkit/global-setup"],
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
});

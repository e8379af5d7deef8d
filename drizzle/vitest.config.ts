import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // @nexus/testkit depends on this package, so it is not listed in package.json (turbo refuses cycles);
    // the workspace link in node_modules resolves it all the same.
    globalSetup: ["@nexus/testkit/global-setup"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // One browser and one service per file; the steps inside a file build on each other.
    hookTimeout: 120_000,
    testTimeout: 60_000,
    fileParallelism: false,
  },
});

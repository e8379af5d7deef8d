#!/usr/bin/env node
// The load tester's binary: runs src/cli.ts (or src/capacity.ts with `nexus-load capacity ...`) under tsx.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const capacity = args[0] === "capacity";
if (capacity) args.shift();
const entry = capacity ? "capacity-cli.ts" : "cli.ts";
const result = spawnSync(process.execPath, ["--import", "tsx", join(here, "..", "src", entry), ...args], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);

#!/usr/bin/env node
// Prepares the machine for `npm start` / `npm test`. Runs as an npm pre-script, before node_modules may
// exist, so it uses Node built-ins only. Every stage is idempotent and cheap when already done.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)}s`;
const log = (message) => console.log(`[setup ${elapsed()}] ${message}`);
const fail = (message) => {
  console.error(`[setup ${elapsed()}] ERROR: ${message}`);
  process.exit(1);
};

const forIndex = process.argv.indexOf("--for");
const target = forIndex >= 0 ? process.argv[forIndex + 1] : "start";
if (target !== "start" && target !== "test") fail(`--for must be "start" or "test", got ${target}`);

// Debian package -> what we need it for. `npm start` runs on the embedded database and in-process bus,
// so it needs none of them.
const PACKAGES = {
  test: {
    postgresql: "PostgreSQL server for the database tests (testkit)",
    "redis-server": "Redis server for the bus and host-registry tests (testkit)",
    ffmpeg: "the recorder process (media/src/recording) and synthetic sources for the media tests",
    chromium: "browser end-to-end tests",
    coturn: "TURN server for the relay and credential tests (turnserver)",
    caddy: "HTTPS reverse proxy of the cluster tests (one origin, internal CA)",
    nftables: "network namespaces with blocked paths in the TURN relay tests (nft)",
  },
  start: {},
};

function checkNode() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) fail(`Node.js >= 20 is required, this is ${process.versions.node}`);
  log(`node ${process.versions.node} ok`);
}

const has = (command) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

/** Package name -> installed? One dpkg-query call for all of them keeps the already-done case fast. */
function installedPackages(names) {
  // dpkg-query's own ${field} syntax, not a JavaScript template.
  const format = ["-f=$", "{Package} $", "{Status}\\n"].join("");
  const result = spawnSync("dpkg-query", ["-W", format, ...names], {
    encoding: "utf8",
  });
  const installed = new Set();
  for (const line of (result.stdout ?? "").split("\n")) {
    const [name, ...status] = line.trim().split(" ");
    if (name && status.join(" ") === "install ok installed") installed.add(name);
  }
  // A versioned server package (postgresql-15) without the metapackage is just as good.
  if (!installed.has("postgresql") && existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql");
    if (versions.some((v) => existsSync(join("/usr/lib/postgresql", v, "bin", "postgres")))) {
      installed.add("postgresql");
    }
  }
  return installed;
}

function ensureSystemPackages() {
  const wanted = PACKAGES[target];
  const names = Object.keys(wanted);
  if (names.length === 0) {
    log("system packages: none needed");
    return;
  }
  if (!has("dpkg-query")) {
    log(`system packages: not a Debian system, make sure these are installed: ${names.join(", ")}`);
    return;
  }
  const installed = installedPackages(names);
  const missing = names.filter((n) => !installed.has(n));
  if (missing.length === 0) {
    log(`system packages ok (${names.join(", ")})`);
    return;
  }
  const why = missing.map((n) => `  ${n}: ${wanted[n]}`).join("\n");
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !has("apt-get")) {
    fail(
      `missing Debian packages:\n${why}\ninstall them with:\n  sudo apt-get install -y ${missing.join(" ")}`,
    );
  }
  log(`installing missing Debian packages: ${missing.join(", ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args) => {
    const r = spawnSync("apt-get", args, { stdio: "inherit", env });
    if (r.status !== 0) fail(`apt-get ${args.join(" ")} failed (exit ${r.status})`);
  };
  run(["update"]);
  run(["install", "-y", "--no-install-recommends", ...missing]);
  log("system packages installed");
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : null);

function ensureNodeModules() {
  const lock = join(root, "package-lock.json");
  const marker = join(root, "node_modules", ".package-lock.json");
  const markerTime = mtime(marker);
  const lockTime = mtime(lock);
  if (markerTime !== null && (lockTime === null || lockTime <= markerTime)) {
    log("node_modules up to date");
    return;
  }
  log(markerTime === null ? "node_modules missing: npm install" : "package-lock.json changed: npm install");
  // mediasoup's postinstall would download or build its worker; the worker stage below owns that, and a
  // set MEDIASOUP_WORKER_BIN makes the postinstall skip even on npm versions that run install scripts.
  const env = { ...process.env, MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN ?? "/nonexistent" };
  const npmArgs = ["install", "--no-audit", "--no-fund"];
  // Serialize with any other npm install in this tree (concurrent installs corrupt node_modules).
  const [command, args] = has("flock")
    ? ["flock", [join(tmpdir(), "npm.lock"), "npm", ...npmArgs]]
    : ["npm", npmArgs];
  const r = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) fail(`npm install failed (exit ${r.status})`);
  // npm leaves the marker untouched when nothing changed; stamp it so the next run is a no-op.
  if (existsSync(marker)) {
    const now = new Date();
    utimesSync(marker, now, now);
  }
  log("npm install done");
}

async function ensureMediasoupWorker() {
  const script = join(root, "scripts", "setup-worker.mjs");
  if (!existsSync(script)) {
    log("WARNING: scripts/setup-worker.mjs not found yet; skipping the mediasoup worker stage");
    return;
  }
  const { ensureWorker } = await import(pathToFileURL(script).href);
  if (typeof ensureWorker !== "function") fail("scripts/setup-worker.mjs does not export ensureWorker()");
  const bin = await ensureWorker({ log: (message) => log(`worker: ${message}`) });
  log(`mediasoup worker ok: ${bin}`);
}

checkNode();
ensureSystemPackages();
ensureNodeModules();
await ensureMediasoupWorker();
log(`ready for npm ${target}`);

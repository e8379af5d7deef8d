// The system packages the offline source build needs: detection, and
// installation with apt when running as root (with an install hint otherwise).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultLog, runChecked } from "./run.mjs";

// Debian package -> how to tell it is already usable. Checking the commands
// and pkg-config modules (not dpkg) also works on a non-Debian host that has
// them from elsewhere.
const BUILD_DEPS = [
  { pkg: "meson", cmd: "meson" },
  { pkg: "ninja-build", cmd: "ninja" },
  { pkg: "pkg-config", cmd: "pkg-config" },
  { pkg: "g++", cmd: "c++" },
  { pkg: "python3", cmd: "python3" },
  { pkg: "patch", cmd: "patch" },
  { pkg: "flatbuffers-compiler", cmd: "flatc" },
  { pkg: "libuv1-dev", pc: "libuv" },
  { pkg: "libssl-dev", pc: "libssl" },
  { pkg: "libsrtp2-dev", pc: "libsrtp2" },
  { pkg: "libflatbuffers-dev", pc: "flatbuffers" },
  { pkg: "libabsl-dev", pc: "absl_strings" },
];
const MESON_MIN = [1, 1];

function commandExists(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function mesonVersionOk() {
  const res = spawnSync("meson", ["--version"], { encoding: "utf8" });
  if (res.status !== 0) return false;
  const [major, minor] = res.stdout.trim().split(".").map(Number);
  return major > MESON_MIN[0] || (major === MESON_MIN[0] && minor >= MESON_MIN[1]);
}

function missingBuildDeps() {
  const hasPkgConfig = commandExists("pkg-config");
  return BUILD_DEPS.filter((d) => {
    if (d.cmd === "meson") return !mesonVersionOk();
    if (d.cmd) return !commandExists(d.cmd);
    if (!hasPkgConfig) return true;
    return spawnSync("pkg-config", ["--exists", d.pc], { stdio: "ignore" }).status !== 0;
  }).map((d) => d.pkg);
}

function readOsRelease() {
  try {
    return Object.fromEntries(
      readFileSync("/etc/os-release", "utf8")
        .split("\n")
        .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
        .filter(Boolean)
        .map((m) => [m[1], m[2].replace(/^"|"$/g, "")]),
    );
  } catch {
    return {};
  }
}

function hasBackportsSource(codename) {
  const files = ["/etc/apt/sources.list"];
  try {
    for (const f of readdirSync("/etc/apt/sources.list.d")) files.push(join("/etc/apt/sources.list.d", f));
  } catch {}
  return files.some((f) => {
    try {
      return /\.(list|sources)$/.test(f) && readFileSync(f, "utf8").includes(`${codename}-backports`);
    } catch {
      return false;
    }
  });
}

function installHint(missing, codename) {
  const others = missing.filter((p) => p !== "meson");
  const lines = [];
  if (others.length) lines.push(`  apt-get install -y --no-install-recommends ${others.join(" ")}`);
  if (missing.includes("meson")) {
    lines.push(
      codename === "bookworm"
        ? "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
            "  apt-get update && apt-get install -y -t bookworm-backports meson   # meson >= 1.1"
        : "  meson >= 1.1 (e.g. apt-get install meson on Debian 13 / Ubuntu 24.04, or pipx install meson)",
    );
  }
  return lines.join("\n");
}

/** Installs the source-build dependencies with apt when root; explains otherwise. */
export async function ensureBuildDeps({ log = defaultLog } = {}) {
  let missing = missingBuildDeps();
  if (missing.length === 0) return;
  const os = readOsRelease();
  const codename = os.VERSION_CODENAME ?? "";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !commandExists("apt-get")) {
    throw new Error(
      `building mediasoup-worker needs packages that are missing: ${missing.join(", ")}.\n` +
        `Install them${isRoot ? "" : " as root"}, then rerun \`npm run setup:worker\`:\n${installHint(missing, codename)}`,
    );
  }
  log(`installing build dependencies with apt: ${missing.join(" ")}`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const needsBackports = missing.includes("meson") && os.ID === "debian" && codename === "bookworm";
  if (needsBackports && !hasBackportsSource(codename)) {
    // Debian 12's own meson is 1.0, older than the worker's meson_version.
    log("adding the bookworm-backports apt source for meson >= 1.1");
    writeFileSync(
      "/etc/apt/sources.list.d/backports.sources",
      "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n" +
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    );
  }
  await runChecked("apt-get", ["update"], { env: aptEnv, log });
  const plain = missing.filter((p) => p !== "meson");
  if (plain.length) {
    await runChecked("apt-get", ["install", "-y", "--no-install-recommends", ...plain], { env: aptEnv, log });
  }
  if (missing.includes("meson")) {
    const args = needsBackports ? ["-t", "bookworm-backports", "meson"] : ["meson"];
    await runChecked("apt-get", ["install", "-y", "--no-install-recommends", ...args], { env: aptEnv, log });
  }
  missing = missingBuildDeps();
  if (missing.length) {
    throw new Error(
      `still missing after apt-get install: ${missing.join(", ")}\n${installHint(missing, codename)}`,
    );
  }
}

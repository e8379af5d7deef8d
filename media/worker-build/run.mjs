// Process runner for the provisioning steps: runs a child, keeps the start of
// its output and a tail of its lines, optionally appends everything to a log
// file, and (runChecked) prints heartbeat lines and throws on failure.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";

export function formatDuration(ms) {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
}

export function defaultLog(msg) {
  process.stderr.write(`[setup-worker] ${msg}\n`);
}

export function run(cmd, args, { cwd, env, timeoutMs, onLine, logFile } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const tail = [];
    let partial = "";
    let fd = null;
    if (logFile) fd = openSync(logFile, "a");
    const onData = (which) => (chunk) => {
      const text = chunk.toString();
      if (fd !== null) writeFileSync(fd, text);
      // Callers only need the start of a child's output; logs go to logFile.
      if (which === "out" && stdout.length < 1e6) stdout += text;
      if (which === "err" && stderr.length < 1e6) stderr += text;
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        onLine?.(line);
      }
    };
    child.stdout.on("data", onData("out"));
    child.stderr.on("data", onData("err"));
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : null;
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      if (fd !== null) closeSync(fd);
      resolvePromise({ code: null, signal: null, stdout, stderr: `${stderr}${err.message}`, tail });
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      if (partial) tail.push(partial);
      if (fd !== null) closeSync(fd);
      resolvePromise({ code, signal, stdout, stderr, tail });
    });
  });
}

export async function runChecked(cmd, args, { cwd, env, log, logFile, onLine } = {}) {
  // Long silent steps (apt, meson) still show they are alive.
  const started = Date.now();
  const heartbeat = log
    ? setInterval(
        () => log(`still running: ${cmd} ${args.join(" ")} (${formatDuration(Date.now() - started)})`),
        30_000,
      )
    : null;
  let res;
  try {
    res = await run(cmd, args, { cwd, env, logFile, onLine });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
  if (res.code !== 0) {
    const where = logFile ? ` (full log: ${logFile})` : "";
    throw new Error(
      `${cmd} ${args.join(" ")} failed with ${res.code ?? res.signal}${where}:\n${res.tail.slice(-40).join("\n")}`,
    );
  }
  return res;
}

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** CPU sets for `taskset -c`: the server alone on one core, the load generator (and PostgreSQL) on the other. */
export const SERVER_CPUS = process.env.BENCH_SERVER_CPUS ?? "0";
export const LOAD_CPUS = process.env.BENCH_LOAD_CPUS ?? "1";
export const HAVE_TASKSET = (() => {
  try {
    readFileSync("/usr/bin/taskset");
    return true;
  } catch {
    return false;
  }
})();

/** argv prefixed with `taskset -c <cpus>` when taskset exists (it execs, so the pid is the program's own). */
export const pinned = (cpus: string, argv: string[]): string[] =>
  HAVE_TASKSET && cpus !== "" ? ["taskset", "-c", cpus, ...argv] : argv;

/** Moves this process (and so everything it spawns later, e.g. PostgreSQL) onto `cpus`. */
export function pinSelf(cpus: string): void {
  if (!HAVE_TASKSET || cpus === "") return;
  const r = spawnSync("taskset", ["-a", "-p", "-c", cpus, String(process.pid)], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`taskset -p -c ${cpus} ${process.pid} failed`);
}

/** user+system CPU time the process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on every Linux this runs on.
}

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killed if it outlives `timeoutMs`. */
export function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. Safe to call twice. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

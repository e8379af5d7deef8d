import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";

/** A server process in its own process group, so stopping it also stops whatever it forked. */
export interface ManagedChild {
  readonly process: ChildProcess;
  /** stdout and stderr so far, for error messages when the server does not come up. */
  output(): string;
  exited(): boolean;
  /** Signals the whole group, waits (bounded) for the exit, then SIGKILLs; idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<{ pid: number; dirs: string[] }>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Last-resort cleanup when the test process exits without calling stop(): servers must never outlive the
 * run. Only synchronous work is possible in an exit handler.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const reap = () => {
    for (const entry of live) {
      killGroup(entry.pid, "SIGKILL");
      for (const dir of entry.dirs) rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.once("exit", reap);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      reap();
      // Re-raise so the process still dies of the signal when nobody else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function startWatchdog(groupId: number, dirs: string[]): ChildProcess | null {
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `kill -KILL -${groupId} 2>/dev/null`,
    ...dirs.map((d) => `rm -rf ${shellQuote(d)}`),
  ].join("; ");
  try {
    const dog = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
    dog.on("error", () => {});
    dog.unref();
    return dog;
  } catch {
    return null;
  }
}

export interface SpawnOptions {
  /** Directories removed when the child is reaped at exit (stop() callers remove their own). */
  dirs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnManaged(command: string, args: string[], options: SpawnOptions = {}): ManagedChild {
  installExitHooks();
  const child = spawn(command, args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let out = "";
  const append = (chunk: Buffer) => {
    // Keep the tail only: enough to explain a failure without growing for the life of the server.
    out = (out + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  // The test process must be able to exit while servers run; cleanup hooks stop them.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  let exitedFlag = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exitedFlag = true;
      resolve();
    });
    child.once("error", (err) => {
      out += `\n${String(err)}`;
      exitedFlag = true;
      resolve();
    });
  });
  const entry = child.pid !== undefined ? { pid: child.pid, dirs: options.dirs ?? [] } : null;
  if (entry) live.add(entry);
  // Exit hooks cannot run when this process is SIGKILLed (a CI timeout, an OOM kill); a watchdog outside
  // it then kills the server's group and deletes its files, so servers never outlive their owner.
  const watchdog = entry ? startWatchdog(entry.pid, entry.dirs) : null;

  let stopping: Promise<void> | null = null;
  return {
    process: child,
    output: () => out,
    exited: () => exitedFlag,
    stop(signal: NodeJS.Signals = "SIGTERM") {
      if (stopping) return stopping;
      stopping = (async () => {
        if (entry) {
          killGroup(entry.pid, signal);
          const timer = setTimeout(() => killGroup(entry.pid, "SIGKILL"), 5000);
          await exitPromise;
          clearTimeout(timer);
          // Children of the server (postgres backends) may linger a moment after the leader exits.
          killGroup(entry.pid, "SIGKILL");
          live.delete(entry);
        }
        if (watchdog?.pid !== undefined) killGroup(watchdog.pid, "SIGKILL");
      })();
      return stopping;
    },
  };
}

/** Polls check() until it resolves true or the deadline passes; every wait in the harness is bounded. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abort?: () => string | null },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    const aborted = options.abort?.();
    if (aborted) throw new Error(`${what}: ${aborted}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
  throw new Error(
    `${what}: not ready after ${options.timeoutMs} ms${lastError ? ` (${String(lastError)})` : ""}`,
  );
}
